fn main() {
    std::process::exit(infragen::cli::run());
}
