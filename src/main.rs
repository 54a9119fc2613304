fn main() {
    std::process::exit(rfab::run(std::env::args_os()));
}
