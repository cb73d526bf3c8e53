//! Percentiles and medians, and the table the bench prints.

use std::time::Duration;

/// The `p`-th percentile (nearest rank) of `values`; 0 for none.
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// The median of `values` (the mean of the middle two for an even count); 0 for none.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// Milliseconds, as a float.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Whether a figure reached its goal, or the check passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A performance goal reached.
    Met,
    /// A performance goal missed (not a failure of the bench).
    Missed,
    /// A figure without a goal.
    Info,
    /// A correctness check passed.
    Pass,
    /// A correctness check failed, or the measurement could not be made: the bench fails.
    Fail,
}

impl Verdict {
    /// `Met` when `ok`, else `Missed`.
    pub fn goal(ok: bool) -> Self {
        if ok { Self::Met } else { Self::Missed }
    }

    /// `Pass` when `ok`, else `Fail`.
    pub fn check(ok: bool) -> Self {
        if ok { Self::Pass } else { Self::Fail }
    }

    fn text(self) -> &'static str {
        match self {
            Self::Met => "goal met",
            Self::Missed => "goal missed",
            Self::Info => "-",
            Self::Pass => "pass",
            Self::Fail => "FAIL",
        }
    }
}

/// One line of the table.
pub struct Row {
    /// The letter of the figure and what it is.
    pub figure: String,
    /// The measured value.
    pub value: String,
    /// The goal, or `-`.
    pub goal: String,
    /// Against the goal.
    pub verdict: Verdict,
    /// How it was measured.
    pub how: String,
}

impl Row {
    /// A row.
    pub fn new(
        figure: impl Into<String>,
        value: impl Into<String>,
        goal: impl Into<String>,
        verdict: Verdict,
        how: impl Into<String>,
    ) -> Self {
        Self {
            figure: figure.into(),
            value: value.into(),
            goal: goal.into(),
            verdict,
            how: how.into(),
        }
    }
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| figure | value | goal | verdict | how it was measured |\n|---|---|---|---|---|\n",
    );
    for row in rows {
        let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(&row.figure),
            cell(&row.value),
            cell(&row.goal),
            row.verdict.text(),
            cell(&row.how)
        ));
    }
    out
}
