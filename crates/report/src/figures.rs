//! SVG figures of the reproduction report, drawn with plotters' SVG backend (no system fonts:
//! text is written as SVG `<text>` and laid out by the browser).

use plotters::prelude::*;

const W: u32 = 720;
const H: u32 = 360;
const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

type Chart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// A chart with one unit-wide slot per category on the x axis, named at the slot centres.
fn category_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    title: &str,
    y_label: &str,
    categories: &[String],
    max: f64,
) -> Option<Chart<'a, 'b>> {
    let n = categories.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..n as f64, 0.0..max)
        .ok()?;
    let cats = categories.to_vec();
    let _ = chart
        .configure_mesh()
        .disable_x_mesh()
        .y_desc(y_label)
        // Labels at every half unit; only the slot centres (i + 0.5) are named.
        .x_labels(2 * n + 1)
        .x_label_formatter(&|x| centre_label(&cats, *x))
        .draw();
    Some(chart)
}

fn centre_label(cats: &[String], x: f64) -> String {
    let twice = (x * 2.0).round() as i64;
    if twice % 2 == 1 { cats.get((twice / 2) as usize).cloned().unwrap_or_default() } else { String::new() }
}

/// A color of the palette by index.
pub fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

/// Grouped bars: one group per category, one bar per series.
pub fn bars(title: &str, y_label: &str, categories: &[String], series: &[(String, Vec<f64>)]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let max = series.iter().flat_map(|(_, v)| v.iter().copied()).filter(|v| v.is_finite()).fold(0.0_f64, f64::max).max(1e-12) * 1.45;
        let k = series.len().max(1);
        let Some(mut chart) = category_chart(&root, title, y_label, categories, max) else { return String::new() };
        let width = 0.8 / k as f64;
        for (si, (name, values)) in series.iter().enumerate() {
            let c = color(si);
            let rects = values.iter().enumerate().filter(|(_, v)| v.is_finite()).map(move |(ci, v)| {
                let x0 = ci as f64 + 0.1 + si as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width * 0.95, *v)], c.filled())
            });
            if let Ok(a) = chart.draw_series(rects) {
                a.label(name.as_str()).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
            }
        }
        let _ = chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperMiddle)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw();
        let _ = root.present();
    }
    svg
}

/// Stacked bars: one bar per category, stacked by component.
pub fn stacked(title: &str, y_label: &str, categories: &[String], components: &[(String, Vec<f64>)]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let n = categories.len().max(1);
        let totals: Vec<f64> = (0..n).map(|i| components.iter().map(|(_, v)| v.get(i).copied().unwrap_or(0.0)).sum()).collect();
        let shown = components.iter().filter(|(_, v)| v.iter().any(|x| *x > 0.0)).count();
        // Headroom above the tallest bar for the legend box (one row per shown component).
        let max = totals.iter().copied().fold(0.0_f64, f64::max).max(1e-12) * (1.25 + 0.16 * shown as f64);
        let Some(mut chart) = category_chart(&root, title, y_label, categories, max) else { return String::new() };
        let mut base = vec![0.0; n];
        // Components that are zero everywhere are left out of the bars and the legend.
        for (si, (name, values)) in components.iter().enumerate().filter(|(_, (_, v))| v.iter().any(|x| *x > 0.0)) {
            let c = color(si);
            let rects: Vec<Rectangle<(f64, f64)>> = (0..n)
                .map(|i| {
                    let v = values.get(i).copied().unwrap_or(0.0);
                    let r = Rectangle::new([(i as f64 + 0.15, base[i]), (i as f64 + 0.85, base[i] + v)], c.filled());
                    base[i] += v;
                    r
                })
                .collect();
            if let Ok(a) = chart.draw_series(rects) {
                a.label(name.as_str()).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
            }
        }
        let _ = chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw();
        let _ = root.present();
    }
    svg
}

/// Lines through (x, y) points, one per series (`log_x` for worker counts).
pub fn lines(title: &str, x_label: &str, y_label: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let pts = series.iter().flat_map(|(_, p)| p.iter().copied()).filter(|(x, y)| x.is_finite() && y.is_finite());
        let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0_f64);
        for (x, y) in pts {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        if !x0.is_finite() || x1 <= x0 {
            x0 = 0.0;
            x1 = x1.max(1.0);
        }
        let mut chart = match ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, 0.0..(y1.max(1e-12) * 1.1))
        {
            Ok(c) => c,
            Err(_) => return String::new(),
        };
        let _ = chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw();
        for (si, (name, p)) in series.iter().enumerate() {
            let c = color(si);
            if let Ok(a) = chart.draw_series(LineSeries::new(p.iter().copied(), c.stroke_width(2))) {
                a.label(name.as_str()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], c.stroke_width(2)));
            }
        }
        let _ = chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw();
        let _ = root.present();
    }
    svg
}

/// Empirical CDFs of samples (each sorted ascending).
pub fn cdfs(title: &str, x_label: &str, series: &[(String, Vec<f64>)]) -> String {
    let curves: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, v)| {
            let n = v.len() as f64;
            (name.clone(), v.iter().enumerate().map(|(i, x)| (*x, (i + 1) as f64 / n)).collect())
        })
        .collect();
    lines(title, x_label, "fraction", &curves)
}
