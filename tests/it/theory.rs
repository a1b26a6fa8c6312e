//! Single stations against queueing theory (semantics.md section 8), and Little's law on a
//! platform with calls.
//!
//! Why: the contract says a service with `replicas: 1` and no calls *is* an M/M/c (or
//! M/G/c) station. If the engine's queueing, timing or statistics were subtly wrong (an
//! off-by-one in the waiting room, time averages over the wrong span, a biased sampler),
//! these textbook numbers are where it shows. Every case simulates at least a million
//! customers after a warmup and asserts within 3% relative error; the expected numbers
//! are computed here from the formulas, not copied from the simulator. All ρ ≤ 0.8, since
//! the variance of the estimates grows like 1/(1−ρ)².
//!
//! Each test prints a table of measured vs theory (see it with `-- --nocapture`).

use platsim::metrics::ServiceSummary;
use platsim::{simulate, Limits, Summary};

/// Relative tolerance of every comparison.
const TOL: f64 = 0.03;
/// Customers simulated before the statistics start.
const WARMUP_CUSTOMERS: f64 = 20_000.0;
/// z with P(Z <= z) = 0.99 for a standard normal Z (as in `model::dist`).
const Z_P99: f64 = 2.326_347_874_040_840_8;

/// Collects comparisons; prints them all, then fails listing every one out of tolerance.
struct Checks {
    title: String,
    rows: Vec<String>,
    failures: Vec<String>,
}

impl Checks {
    fn new(title: impl Into<String>) -> Self {
        Checks {
            title: title.into(),
            rows: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// `measured` within `tol` (relative) of `theory`.
    fn rel(&mut self, what: &str, measured: f64, theory: f64, tol: f64) {
        let err = (measured - theory) / theory;
        let ok = err.is_finite() && err.abs() <= tol;
        let row = format!(
            "{:<28} measured {:>14.6}  theory {:>14.6}  error {:>+7.3}% (limit ±{}%){}",
            what,
            measured,
            theory,
            100.0 * err,
            100.0 * tol,
            if ok { "" } else { "  <-- FAIL" }
        );
        if !ok {
            self.failures.push(row.clone());
        }
        self.rows.push(row);
    }

    /// `measured` within `abs` of `theory` (for values that are zero in theory).
    fn abs(&mut self, what: &str, measured: f64, theory: f64, abs: f64) {
        let ok = (measured - theory).abs() <= abs;
        let row = format!(
            "{:<28} measured {:>14.6}  theory {:>14.6}  (limit ±{} absolute){}",
            what,
            measured,
            theory,
            abs,
            if ok { "" } else { "  <-- FAIL" }
        );
        if !ok {
            self.failures.push(row.clone());
        }
        self.rows.push(row);
    }

    fn done(self) {
        println!("== {}\n{}", self.title, self.rows.join("\n"));
        assert!(
            self.failures.is_empty(),
            "{}: {} of {} checks out of tolerance:\n{}\nall checks:\n{}",
            self.title,
            self.failures.len(),
            self.rows.len(),
            self.failures.join("\n"),
            self.rows.join("\n")
        );
    }
}

/// One station: `servers` servers, a waiting room, Poisson arrivals at `rate` per second.
struct Station {
    servers: u32,
    queue_capacity: Option<u32>,
    /// A distribution in scenario syntax, e.g. `Exponential(mean: "1s")`.
    service_time: String,
    rate: f64,
    /// Customers to measure after the warmup (the duration follows from the rate).
    customers: f64,
    seed: u64,
}

impl Station {
    fn exponential(servers: u32, rate: f64, customers: f64) -> Self {
        Station {
            servers,
            queue_capacity: None,
            service_time: r#"Exponential(mean: "1s")"#.to_string(),
            rate,
            customers,
            seed: 1,
        }
    }

    fn scenario(&self) -> String {
        let measured_s = (self.customers / self.rate).ceil() as u64;
        let warmup_s = (WARMUP_CUSTOMERS / self.rate).ceil() as u64;
        let window_s = ((measured_s + warmup_s) / 100).max(1);
        let queue = match self.queue_capacity {
            Some(k) => format!("Some({k})"),
            None => "None".to_string(),
        };
        format!(
            r#"Scenario(
    name: "theory",
    seed: {seed},
    duration: "{duration}s",
    warmup: "{warmup_s}s",
    window: "{window_s}s",
    services: [
        Service(
            name: "station",
            replicas: 1,
            concurrency: {servers},
            queue_capacity: {queue},
            service_time: {service_time},
        ),
    ],
    workload: [Open(target: "station", rate: {rate:?})],
)"#,
            seed = self.seed,
            duration = measured_s + warmup_s,
            servers = self.servers,
            service_time = self.service_time,
            rate = self.rate,
        )
    }

    /// Runs the station; checks that enough customers were measured.
    fn run(&self) -> (ServiceSummary, Summary) {
        let text = self.scenario();
        let summary = simulate(&text, "theory", &[], Limits::default())
            .unwrap_or_else(|e| panic!("scenario failed: {e}\n{text}"));
        let s = summary.services["station"].clone();
        assert!(
            s.arrivals as f64 >= 0.98 * self.customers && s.arrivals >= 1_000_000,
            "only {} customers measured, wanted about {} (at least 1,000,000)",
            s.arrivals,
            self.customers
        );
        (s, summary)
    }
}

/// Measured time after the warmup, in seconds.
fn measured_secs(summary: &Summary) -> f64 {
    summary.duration_s - summary.warmup_s
}

fn secs(ms: f64) -> f64 {
    ms / 1000.0
}

/// Erlang B by the stable recursion B₀ = 1, Bₖ = a·Bₖ₋₁/(k + a·Bₖ₋₁).
fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

/// Erlang C (probability of waiting) from Erlang B: C = c·B/(c − a(1 − B)).
fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    c as f64 * b / (c as f64 - a * (1.0 - b))
}

/// The smallest t with `survival(t) <= p`, by bisection (`survival` decreasing).
fn solve_survival(survival: impl Fn(f64) -> f64, p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while survival(hi) > p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if survival(mid) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Mean sojourn, mean wait, mean number in system and in queue, utilization.
fn check_means(c: &mut Checks, s: &ServiceSummary, w: f64, wq: f64, l: f64, lq: f64, util: f64) {
    c.rel("W (mean sojourn, s)", secs(s.sojourn_ms.mean), w, TOL);
    c.rel("Wq (mean wait, s)", secs(s.wait_ms.mean), wq, TOL);
    c.rel("L (mean in system)", s.mean_in_system, l, TOL);
    c.rel("Lq (mean in queue)", s.mean_in_queue, lq, TOL);
    c.rel("utilization", s.utilization, util, TOL);
}

#[test]
fn mm1_matches_theory() {
    // λ = 0.8, μ = 1: W = 5, Wq = 4, L = 4, Lq = 3.2; sojourn ~ Exp(μ − λ);
    // P(Wq > t) = ρ·e^{−(μ−λ)t}.
    let (lambda, mu) = (0.8, 1.0);
    let rho = lambda / mu;
    let (s, summary) = Station::exponential(1, lambda, 2_000_000.0).run();
    let mut c = Checks::new(format!("M/M/1 λ=0.8 μ=1, {} customers", s.arrivals));
    let w = 1.0 / (mu - lambda);
    check_means(
        &mut c,
        &s,
        w,
        rho * w,
        rho / (1.0 - rho),
        rho * rho / (1.0 - rho),
        rho,
    );
    c.rel("throughput (1/s)", s.throughput_rps, lambda, TOL);
    c.rel(
        "sojourn p50 (s) = 5 ln 2",
        secs(s.sojourn_ms.p50),
        w * 2f64.ln(),
        TOL,
    );
    c.rel(
        "sojourn p95 (s) = 5 ln 20",
        secs(s.sojourn_ms.p95),
        w * 20f64.ln(),
        TOL,
    );
    c.rel(
        "sojourn p99 (s) = 5 ln 100",
        secs(s.sojourn_ms.p99),
        w * 100f64.ln(),
        TOL,
    );
    let wait_q = |q: f64| (rho / (1.0 - q)).ln() / (mu - lambda);
    c.rel("wait p50 (s)", secs(s.wait_ms.p50), wait_q(0.50), TOL);
    c.rel("wait p95 (s)", secs(s.wait_ms.p95), wait_q(0.95), TOL);
    c.rel("wait p99 (s)", secs(s.wait_ms.p99), wait_q(0.99), TOL);
    // Little's law on the simulator's own numbers.
    let lambda_hat = s.arrivals as f64 / measured_secs(&summary);
    c.rel(
        "Little: L vs λ̂·W",
        s.mean_in_system,
        lambda_hat * secs(s.sojourn_ms.mean),
        TOL,
    );
    c.done();
}

/// M/M/c with Erlang C: means, the wait distribution P(Wq > t) = C·e^{−(cμ−λ)t}, and the
/// sojourn distribution (Wq + S, S ~ Exp(μ) independent).
fn mmc(servers: u32, lambda: f64, customers: f64, worked_c: f64) {
    let mu = 1.0;
    let cf = servers as f64;
    let a = lambda / mu;
    let rho = a / cf;
    let erl = erlang_c(servers, a);
    assert!(
        (erl - worked_c).abs() < 1e-6,
        "the test's Erlang C({servers}, {a}) = {erl}, semantics.md says {worked_c}"
    );
    let theta = cf * mu - lambda;
    let wq = erl / theta;
    let w = wq + 1.0 / mu;

    let (s, _) = Station::exponential(servers, lambda, customers).run();
    let mut c = Checks::new(format!(
        "M/M/{servers} λ={lambda} μ=1 (C = {erl:.6}), {} customers",
        s.arrivals
    ));
    check_means(&mut c, &s, w, wq, lambda * w, lambda * wq, rho);

    // Wait quantiles: zero where P(wait > 0) = C is below 1 − q.
    let wait_q = |q: f64| {
        if 1.0 - q >= erl {
            0.0
        } else {
            (erl / (1.0 - q)).ln() / theta
        }
    };
    for (name, q, got) in [
        ("wait p50 (s)", 0.50, s.wait_ms.p50),
        ("wait p95 (s)", 0.95, s.wait_ms.p95),
        ("wait p99 (s)", 0.99, s.wait_ms.p99),
    ] {
        let want = wait_q(q);
        if want == 0.0 {
            c.abs(name, secs(got), 0.0, 1e-9);
        } else {
            c.rel(name, secs(got), want, TOL);
        }
    }

    // P(W > t) = (1 − C)e^{−μt} + C·P(Exp(θ) + Exp(μ) > t), θ ≠ μ.
    let survival = |t: f64| {
        let hypo = (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu);
        (1.0 - erl) * (-mu * t).exp() + erl * hypo
    };
    for (name, q, got) in [
        ("sojourn p50 (s)", 0.50, s.sojourn_ms.p50),
        ("sojourn p95 (s)", 0.95, s.sojourn_ms.p95),
        ("sojourn p99 (s)", 0.99, s.sojourn_ms.p99),
    ] {
        c.rel(name, secs(got), solve_survival(survival, 1.0 - q), TOL);
    }
    c.done();
}

#[test]
fn mm3_matches_erlang_c() {
    // Worked example 5: M/M/3, λ = 2.4, μ = 1 (ρ = 0.8), C = 288/445.
    mmc(3, 2.4, 4_000_000.0, 288.0 / 445.0);
}

#[test]
fn mm10_matches_erlang_c() {
    // Worked example 6: M/M/10, λ = 8, μ = 1 (ρ = 0.8), C = 0.409180. The wait is short
    // next to the service time, so its mean needs many customers to settle.
    mmc(10, 8.0, 8_000_000.0, 0.409_180);
}

#[test]
fn erlang_recursion_matches_worked_examples() {
    // The test's own formulas against semantics.md's exact fractions.
    let cases = [
        ("M/M/3 λ=2: Erlang B", erlang_b(3, 2.0), 4.0 / 19.0),
        ("M/M/3 λ=2: Erlang C", erlang_c(3, 2.0), 4.0 / 9.0),
        ("M/M/2 λ=1.5: Erlang C", erlang_c(2, 1.5), 9.0 / 14.0),
        ("M/M/1 λ=0.8: Erlang C = ρ", erlang_c(1, 0.8), 0.8),
    ];
    for (what, got, want) in cases {
        assert!(
            (got - want).abs() < 1e-12,
            "{what}: computed {got}, expected {want}"
        );
    }
}

/// M/G/1 by Pollaczek–Khinchine: Wq = λE[S²]/(2(1−ρ)).
fn mg1(title: &str, service_time: String, mean_s: f64, second_moment_s2: f64, customers: f64) {
    let lambda = 0.8;
    let rho = lambda * mean_s;
    let wq = lambda * second_moment_s2 / (2.0 * (1.0 - rho));
    let w = wq + mean_s;
    let st = Station {
        servers: 1,
        queue_capacity: None,
        service_time,
        rate: lambda,
        customers,
        seed: 1,
    };
    let (s, _) = st.run();
    let cs2 = second_moment_s2 / (mean_s * mean_s) - 1.0;
    let mut c = Checks::new(format!(
        "{title}: λ={lambda} E[S]={mean_s:.6} C_s²={cs2:.4}, {} customers",
        s.arrivals
    ));
    check_means(&mut c, &s, w, wq, lambda * w, lambda * wq, rho);
    c.done();
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    // Worked example 7: M/D/1, λ = 0.8, D = 1: Wq = 2, W = 3, L = 2.4, Lq = 1.6.
    mg1(
        "M/D/1",
        r#"Constant("1s")"#.to_string(),
        1.0,
        1.0,
        1_500_000.0,
    );
}

#[test]
fn mg1_lognormal_high_variance_matches_pollaczek_khinchine() {
    // Worked example 8: E[S] = 1 s, C_s² = 4 gives Wq = 10 at λ = 0.8. A log-normal with
    // C_s² = 4 has σ² = ln(1 + C_s²) = ln 5 and median E[S]/√5. The scenario gives it by
    // median and p99, rounded to whole nanoseconds; the moments below are those of the
    // distribution the simulator actually samples. The heavy tail needs ~32M customers
    // for the mean wait to settle within a fraction of the 3% limit.
    let sigma = 5f64.ln().sqrt();
    let median_ns = (1e9 / 5f64.sqrt()).round();
    let p99_ns = (median_ns * (sigma * Z_P99).exp()).round();
    let mu = median_ns.ln();
    let sigma = (p99_ns.ln() - mu) / Z_P99;
    let mean_s = (mu + sigma * sigma / 2.0).exp() / 1e9;
    let second_s2 = (2.0 * mu + 2.0 * sigma * sigma).exp() / 1e18;
    let text = format!(r#"LogNormal(median: "{median_ns}ns", p99: "{p99_ns}ns")"#);
    mg1("M/G/1 log-normal", text, mean_s, second_s2, 32_000_000.0);
}

#[test]
fn mg1_erlang_matches_pollaczek_khinchine() {
    // Erlang-4 with mean 1 s: C_s² = 1/4, E[S²] = 1.25, Wq = 2.5.
    mg1(
        "M/E4/1",
        r#"Erlang(k: 4, mean: "1s")"#.to_string(),
        1.0,
        1.25,
        2_000_000.0,
    );
}

#[test]
fn mg1_uniform_matches_pollaczek_khinchine() {
    // Uniform on [0, 2 s]: E[S] = 1, E[S²] = 4/3 (C_s² = 1/3), Wq = 8/3.
    mg1(
        "M/U/1",
        r#"Uniform(min: "0s", max: "2s")"#.to_string(),
        1.0,
        4.0 / 3.0,
        2_000_000.0,
    );
}

/// M/M/1/K: at most `k` requests in the station (1 in service + `k − 1` waiting).
fn mm1k(lambda: f64, k: u32, customers: f64, worked_block: f64) {
    let mu = 1.0;
    let r = lambda / mu;
    let norm: f64 = (0..=k).map(|n| r.powi(n as i32)).sum();
    let p = |n: u32| r.powi(n as i32) / norm;
    let p_block = p(k);
    assert!(
        (p_block - worked_block).abs() < 1e-6,
        "the test's P_block for M/M/1/{k} λ={lambda} is {p_block}, semantics.md says {worked_block}"
    );
    let l: f64 = (0..=k).map(|n| n as f64 * p(n)).sum();
    let lq: f64 = (1..=k).map(|n| (n - 1) as f64 * p(n)).sum();
    let lambda_eff = lambda * (1.0 - p_block);
    let w = l / lambda_eff;
    let wq = lq / lambda_eff;

    let st = Station {
        servers: 1,
        queue_capacity: Some(k - 1),
        service_time: r#"Exponential(mean: "1s")"#.to_string(),
        rate: lambda,
        customers,
        seed: 1,
    };
    let (s, summary) = st.run();
    let mut c = Checks::new(format!(
        "M/M/1/{k} λ={lambda} μ=1 (queue_capacity {}), {} customers",
        k - 1,
        s.arrivals
    ));
    c.rel(
        "P_block (rejected/arrivals)",
        s.rejected as f64 / s.arrivals as f64,
        p_block,
        TOL,
    );
    check_means(&mut c, &s, w, wq, l, lq, 1.0 - p(0));
    c.rel(
        "λ_eff (completed/s)",
        s.completed as f64 / measured_secs(&summary),
        lambda_eff,
        TOL,
    );
    c.done();
}

#[test]
fn mm1k_k5_matches_theory() {
    // Worked example 9: P_block = 1024/11529, L = 1.868332, W = 2.563065.
    mm1k(0.8, 5, 2_000_000.0, 1024.0 / 11529.0);
}

#[test]
fn mm1k_k3_overloaded_matches_theory() {
    // Worked example 11: λ = 2, μ = 1, K = 3: P_block = 8/15 (finite K needs no ρ < 1).
    mm1k(2.0, 3, 2_000_000.0, 8.0 / 15.0);
}

/// A platform with calls (hard and soft, with timeouts), replicas behind every kind of
/// balancer, bounded and unbounded waiting rooms, errors, and both workload kinds.
const LITTLE_PLATFORM: &str = r#"Scenario(
    name: "little",
    seed: 3,
    duration: "3100s",
    warmup: "100s",
    window: "10s",
    services: [
        Service(
            name: "gateway",
            replicas: 2,
            concurrency: 16,
            queue_capacity: Some(20),
            service_time: LogNormal(median: "2ms", p99: "20ms"),
            balancer: LeastOutstanding,
            calls: [
                Call(to: "users", dependency: Hard, timeout: Some("200ms")),
                Call(to: "recs", dependency: Soft, timeout: Some("40ms")),
            ],
        ),
        Service(
            name: "users",
            replicas: 3,
            concurrency: 2,
            service_time: Exponential(mean: "5ms"),
            error_rate: 0.02,
            balancer: RoundRobin,
            calls: [Call(to: "db", dependency: Hard)],
        ),
        Service(
            name: "recs",
            concurrency: 8,
            queue_capacity: Some(5),
            service_time: Uniform(min: "1ms", max: "30ms"),
        ),
        Service(
            name: "db",
            replicas: 2,
            concurrency: 4,
            service_time: Erlang(k: 2, mean: "3ms"),
            balancer: Random,
        ),
    ],
    workload: [
        Open(name: "web", target: "gateway", rate: 350.0, timeout: Some("150ms")),
        Closed(name: "mobile", target: "gateway", users: 10, think_time: Exponential(mean: "200ms")),
    ],
)"#;

#[test]
fn littles_law_holds_at_every_service_of_a_platform() {
    // L = λ_accepted·W and Lq = λ_accepted·Wq at every service, whatever its
    // distributions, calls, timeouts and rejections: the time averages and the
    // per-request latencies must describe the same requests.
    let summary = simulate(LITTLE_PLATFORM, "little", &[], Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let t = measured_secs(&summary);
    let mut c = Checks::new(format!(
        "Little's law, platform of {} services",
        summary.services.len()
    ));
    for (name, s) in &summary.services {
        assert!(
            s.arrivals >= 1_000_000,
            "{name}: only {} arrivals; the test wants at least 1,000,000",
            s.arrivals
        );
        let accepted = (s.arrivals - s.rejected) as f64 / t;
        c.rel(
            &format!("{name}: L vs λ_acc·W"),
            s.mean_in_system,
            accepted * secs(s.sojourn_ms.mean),
            TOL,
        );
        c.rel(
            &format!("{name}: Lq vs λ_acc·Wq"),
            s.mean_in_queue,
            accepted * secs(s.wait_ms.mean),
            TOL,
        );
    }
    // The platform must exercise what it claims to: rejections, timeouts, soft failures.
    let recs = &summary.services["recs"];
    let gateway = &summary.services["gateway"];
    assert!(recs.rejected > 0, "recs rejected nothing: {recs:?}");
    assert!(recs.timeouts > 0, "no call to recs timed out: {recs:?}");
    assert!(
        gateway.degraded > 0,
        "no gateway request was degraded: {gateway:?}"
    );
    assert!(
        summary.workloads["web"].timeouts > 0,
        "no web client timed out: {:?}",
        summary.workloads["web"]
    );
    c.done();
}

/// A tandem of three M/M/4 stations at 90% load joined by job queues: the first is a
/// synchronous service (its waiting room is its `wait_ms`), the next two are worker pools
/// of 4 pulling from a queue (the queue is their waiting room, `queues.NAME.wait_ms`).
/// By Burke's theorem an M/M/c station's departures are Poisson, so each stage is an
/// M/M/4 with λ = 3.6, μ = 1 and its mean wait is Erlang C's Wq = C/(cμ − λ); an order's
/// latency, placed to its last step, is the sum of the three mean sojourns by linearity
/// (semantics.md §8, Jackson network).
///
/// ρ = 0.9 makes the estimates noisy: over seeds 1..=7 with a million orders each, one
/// queue's mean wait strays by up to 5.8% from Erlang C (both signs, no bias), so one
/// run of a million cannot hold 3% honestly. The test pools four independent runs of a
/// million orders (seeds 1 to 4, about 2.5 s each, run side by side): the standard
/// error of a pooled mean wait is about 1.3%, and every check is within 3%.
#[test]
fn tandem_of_mmc_stations_joined_by_queues_matches_erlang_c() {
    const SEEDS: u64 = 4;
    let (servers, lambda, mu) = (4u32, 3.6, 1.0);
    let runs: Vec<Summary> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..=SEEDS)
            .map(|seed| scope.spawn(move || tandem(seed, servers, lambda, 1_000_000.0)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let pooled = |f: &dyn Fn(&Summary) -> f64| runs.iter().map(f).sum::<f64>() / SEEDS as f64;
    let orders = |s: &Summary| s.orders.clone().expect("the scenario defines orders");
    let completed: u64 = runs.iter().map(|s| orders(s).completed).sum();

    let wq = erlang_c(servers, lambda / mu) / (servers as f64 * mu - lambda);
    let w = wq + 1.0 / mu;
    let mut c = Checks::new(format!(
        "tandem of 3 M/M/{servers}, λ={lambda} μ={mu}: Wq = {wq:.6}, {completed} orders \
         completed over {SEEDS} seeds"
    ));
    let wait = |s: &Summary| secs(s.services["stage1"].wait_ms.mean);
    c.rel("stage1 wait (s)", pooled(&wait), wq, TOL);
    for q in ["q12", "q23"] {
        let wait = |s: &Summary| secs(s.queues[q].wait_ms.mean);
        c.rel(&format!("{q} wait (s)"), pooled(&wait), wq, TOL);
    }
    for (k, stage) in ["stage1", "stage2", "stage3"].iter().enumerate() {
        let to_step = |s: &Summary| secs(orders(s).steps[*stage].latency_ms.mean);
        c.rel(
            &format!("placed to {stage} (s)"),
            pooled(&to_step),
            w * (k + 1) as f64,
            TOL,
        );
    }
    let latency = |s: &Summary| secs(orders(s).latency_ms.mean);
    c.rel("order latency (s)", pooled(&latency), 3.0 * w, TOL);
    // A worker pool's own wait is zero (a worker holds a server), and its sojourn leaves
    // the queue out; `pulled` puts it back.
    for (stage, q) in [("stage2", "q12"), ("stage3", "q23")] {
        let own_wait = |s: &Summary| secs(s.services[stage].wait_ms.max);
        c.abs(
            &format!("{stage} own wait (s)"),
            pooled(&own_wait),
            0.0,
            0.0,
        );
        let sojourn = |s: &Summary| secs(s.services[stage].sojourn_ms.mean);
        c.rel(
            &format!("{stage} sojourn (s)"),
            pooled(&sojourn),
            1.0 / mu,
            TOL,
        );
        let pulled = |s: &Summary| s.services[stage].pulled.clone().expect("a pool pulls");
        let with_queue = |s: &Summary| secs(pulled(s).sojourn_with_queue_ms.mean);
        c.rel(
            &format!("{stage} sojourn with queue (s)"),
            pooled(&with_queue),
            w,
            TOL,
        );
        for s in &runs {
            assert_eq!(pulled(s).from, [format!("queue {q}")]);
            assert_eq!(
                pulled(s).queue_wait_ms,
                s.queues[q].wait_ms,
                "one source, one wait"
            );
        }
    }
    for s in &runs {
        let o = orders(s);
        assert!(
            o.completed >= 990_000 && o.lost == 0 && o.in_dlq == 0,
            "{o:?}"
        );
    }
    c.done();
}

/// One run of the tandem: `orders` orders measured after a warmup.
fn tandem(seed: u64, servers: u32, lambda: f64, orders: f64) -> Summary {
    let measured_s = (orders / lambda) as u64;
    let warmup_s = (WARMUP_CUSTOMERS / lambda) as u64;
    let text = format!(
        r#"Scenario(
    name: "tandem",
    seed: {seed},
    duration: "{duration}s",
    warmup: "{warmup_s}s",
    window: "{window}s",
    drain: "10m",
    orders: Orders(entry: "stage1", steps: ["stage1", "stage2", "stage3"]),
    queues: [JobQueue(name: "q12"), JobQueue(name: "q23")],
    services: [
        Service(name: "stage1", concurrency: {servers}, service_time: Exponential(mean: "1s"),
                push: Some("q12")),
        Service(name: "stage2", concurrency: {servers}, service_time: Exponential(mean: "1s"),
                workers: Some(Workers(queue: "q12", count: {servers})), push: Some("q23")),
        Service(name: "stage3", concurrency: {servers}, service_time: Exponential(mean: "1s"),
                workers: Some(Workers(queue: "q23", count: {servers}))),
    ],
    workload: [Open(target: "stage1", rate: {lambda:?})],
)"#,
        duration = measured_s + warmup_s,
        window = (measured_s + warmup_s) / 100,
    );
    simulate(&text, "tandem", &[], Limits::default())
        .unwrap_or_else(|e| panic!("scenario failed: {e}\n{text}"))
}
