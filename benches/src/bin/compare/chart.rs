//! The ratio chart, as hand-written SVG (no font or system dependency):
//! one row per workload, one bar per store size, on a log scale with the
//! parity line at 1.

use std::fmt::Write as _;

use crate::report::SizeReport;

const COLORS: [&str; 4] = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1"];
const LEFT: f64 = 170.0;
const WIDTH: f64 = 560.0;
const MIN_LOG: f64 = -2.0;
const MAX_LOG: f64 = 2.0;

fn x(ratio: f64) -> f64 {
    let l = ratio.clamp(1e-2, 1e2).log10();
    LEFT + (l - MIN_LOG) / (MAX_LOG - MIN_LOG) * WIDTH
}

/// The SVG document of the ratios in `reports`.
pub fn svg(reports: &[SizeReport]) -> String {
    let mut labels: Vec<String> = Vec::new();
    for rep in reports {
        for r in &rep.rows {
            if !labels.contains(&r.short()) {
                labels.push(r.short());
            }
        }
    }
    let bar = 9.0;
    let sizes = reports.len().max(1);
    #[allow(clippy::cast_precision_loss, reason = "pixel positions")]
    let group = bar * sizes as f64 + 8.0;
    #[allow(clippy::cast_precision_loss, reason = "pixel positions")]
    let height = 60.0 + group * labels.len() as f64 + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="11">"#,
        w = LEFT + WIDTH + 120.0
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="18" font-size="13">SQLite time / rosterdb time (log scale; &gt; 1: rosterdb faster)</text>"#
    );
    for tick in [0.01, 0.1, 0.5, 1.0, 2.0, 3.0, 10.0, 100.0] {
        let tx = x(tick);
        let stroke = if (tick - 1.0_f64).abs() < f64::EPSILON {
            r##"stroke="#000" stroke-width="1.5""##
        } else {
            r##"stroke="#ccc""##
        };
        let _ = writeln!(
            s,
            r#"<line x1="{tx:.1}" y1="40" x2="{tx:.1}" y2="{:.1}" {stroke}/>"#,
            height - 30.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{tx:.1}" y="{:.1}" text-anchor="middle">{tick}</text>"#,
            height - 16.0
        );
    }
    for (i, label) in labels.iter().enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "pixel positions")]
        let top = 45.0 + group * i as f64;
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#,
            LEFT - 6.0,
            top + group / 2.0
        );
        for (j, rep) in reports.iter().enumerate() {
            let Some(row) = rep.rows.iter().find(|r| &r.short() == label) else {
                continue;
            };
            let ratio = row.ratio();
            let (a, b) = (x(1.0), x(ratio));
            #[allow(clippy::cast_precision_loss, reason = "pixel positions")]
            let y = top + bar * j as f64;
            let color = COLORS
                .get(j.checked_rem(COLORS.len()).unwrap_or(0))
                .copied()
                .unwrap_or("#888");
            let _ = writeln!(
                s,
                r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{label} at {} users: {ratio:.2}</title></rect>"#,
                a.min(b),
                (b - a).abs().max(1.0),
                bar - 1.0,
                rep.users
            );
            if let Some(m) = row.min_ratio {
                let _ = writeln!(
                    s,
                    r##"<line x1="{t:.1}" y1="{y:.1}" x2="{t:.1}" y2="{:.1}" stroke="#d62728" stroke-width="2"/>"##,
                    y + bar - 1.0,
                    t = x(m)
                );
            }
        }
    }
    for (j, rep) in reports.iter().enumerate() {
        let color = COLORS
            .get(j.checked_rem(COLORS.len()).unwrap_or(0))
            .copied()
            .unwrap_or("#888");
        #[allow(clippy::cast_precision_loss, reason = "pixel positions")]
        let y = 50.0 + 16.0 * j as f64;
        let lx = LEFT + WIDTH + 15.0;
        let _ = writeln!(
            s,
            r#"<rect x="{lx:.1}" y="{y:.1}" width="10" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}">{} users</text>"#,
            lx + 14.0,
            y + 9.0,
            rep.users
        );
    }
    let _ = writeln!(
        s,
        r##"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="#d62728" stroke-width="2"/><text x="{3:.1}" y="{2:.1}">target</text>"##,
        LEFT + WIDTH + 20.0,
        60.0 + 16.0 * reports.len() as f64,
        70.0 + 16.0 * reports.len() as f64,
        LEFT + WIDTH + 29.0
    );
    s.push_str("</svg>\n");
    s
}
