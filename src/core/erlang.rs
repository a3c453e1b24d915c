//! Erlang C: the M/M/c queue's probability of waiting and mean wait, the
//! textbook check for the simulation.

/// Probability that an arriving caller waits (Erlang C) with `c` agents and
/// offered load `a` = arrival rate x mean handle time (Erlangs). 1.0 when
/// the queue is unstable (a >= c).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    if a >= c as f64 {
        return 1.0;
    }
    // Erlang B by its stable recurrence, then C from B.
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let rho = a / c as f64;
    b / (1.0 - rho + rho * b)
}

/// Mean wait over all callers (seconds) for M/M/c with arrival rate
/// `lambda` (per second) and mean handle time `h` (seconds).
pub fn mean_wait(c: u32, lambda: f64, h: f64) -> f64 {
    let a = lambda * h;
    if a >= c as f64 {
        return f64::INFINITY;
    }
    erlang_c(c, a) * h / (c as f64 - a)
}

/// Service level: share of callers answered within `t` seconds.
pub fn service_level(c: u32, lambda: f64, h: f64, t: f64) -> f64 {
    let a = lambda * h;
    if a >= c as f64 {
        return 0.0;
    }
    1.0 - erlang_c(c, a) * (-(c as f64 - a) * t / h).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_values() {
        // 10 agents, 8 Erlangs: P(wait) ~ 0.409 (standard tables).
        assert!((erlang_c(10, 8.0) - 0.409).abs() < 0.002, "{}", erlang_c(10, 8.0));
        // One server: P(wait) = rho.
        assert!((erlang_c(1, 0.5) - 0.5).abs() < 1e-12);
        assert_eq!(erlang_c(3, 3.5), 1.0);
        // M/M/1 mean wait = rho/(mu - lambda): lambda .5, h 1 => 1.0 s.
        assert!((mean_wait(1, 0.5, 1.0) - 1.0).abs() < 1e-12);
    }
}
