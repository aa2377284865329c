#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    infragen::cli::run()
}
