fn main() {
    infragen::heap::prefer_huge_pages();
    std::process::exit(infragen::cli::run());
}
