fn main() {
    std::process::exit(scenario::run(std::env::args_os()));
}
