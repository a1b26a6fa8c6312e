//! The `platsim` binary: the command line over the library.

fn main() {
    // A panic is a bug in platsim, never the user's fault: report it as an internal
    // failure (exit 1) rather than Rust's default 101.
    let code = std::panic::catch_unwind(|| platsim::cli::main_with(std::env::args_os()))
        .unwrap_or_else(|_| {
            eprintln!("internal error: platsim crashed; please report it with the scenario, seed and command line");
            1
        });
    std::process::exit(code);
}
