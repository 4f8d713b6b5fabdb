//! Run one workload on the bench board and print the report:
//!
//! ```text
//! cargo bench -p ironpc-harness --bench run_image -- [--timing fast|exact|counting]
//!     [--rounds N] [--cpu 8088|8086|80186|80286] [--no-cache] [IMAGE]
//! ```
//!
//! The same as `ironpc bench`, for scripts that run before the CLI has it.
//! `exact` is the cycle-exact model (8086/8088 only).

use harness::bench::{run, BenchOptions, Workload};

fn main() -> anyhow::Result<()> {
    let mut opts = BenchOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{name} needs a value"))
        };
        match a.as_str() {
            // Passed by `cargo bench` itself.
            "--bench" => {}
            "--timing" => opts.timing = value("--timing")?.parse()?,
            "--rounds" => opts.rounds = value("--rounds")?.parse()?,
            "--cpu" => opts.model = value("--cpu")?.parse()?,
            "--no-cache" => opts.decode_cache = false,
            _ if a.starts_with("--") => anyhow::bail!("unknown option {a}"),
            _ => opts.workload = Workload::File(a.into()),
        }
    }
    let report = run(&opts)?;
    println!("{report}");
    Ok(())
}
