//! Line charts as SVG and PNG, drawn with plotters, with optional error bars. Text in PNGs
//! uses the DejaVu Sans font embedded in the binary (`assets/`), so plots look the same on
//! machines without fonts. Both files are written atomically (temporary file, fsync, rename).

use std::fs::File;
use std::path::Path;
use std::sync::Once;

use anyhow::{Context, Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::output::{publish, temporary_path, write_bytes_atomic};

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The embedded font is valid; a failure here would only mean a missing glyph source.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// `(x, y)` points, in x order.
    pub points: Vec<(f64, f64)>,
    /// Half-length of each point's error bar (e.g. a standard deviation over seeds), in the
    /// order of `points`; empty for a line without error bars.
    pub errors: Vec<f64>,
}

impl Series {
    /// Each point with its error (0 where the series has none).
    fn with_errors(&self) -> impl Iterator<Item = ((f64, f64), f64)> + '_ {
        let errors = self.errors.iter().copied().chain(std::iter::repeat(0.0));
        self.points.iter().copied().zip(errors)
    }
}

/// What a chart shows.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// Label of the x axis.
    pub x_label: &'a str,
    /// Label of the y axis.
    pub y_label: &'a str,
    /// The lines.
    pub series: &'a [Series],
    /// Whether x values are integers (epochs, module indices, K).
    pub integer_x: bool,
}

/// A chart's plotting area: f64 coordinates on both axes.
type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn bounds(series: &[Series]) -> ((f64, f64), (f64, f64)) {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let ys = series
        .iter()
        .flat_map(|s| s.with_errors().flat_map(|((_, y), e)| [y - e, y + e]));
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let (y0, y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    let (x0, x1) = if x0 == x1 {
        (x0 - 1.0, x1 + 1.0)
    } else {
        (x0, x1)
    };
    let pad = ((y1 - y0) * 0.08).max(0.01);
    ((x0, x1), (y0 - pad, y1 + pad))
}

/// The corner of the plot with the fewest data points, for the legend.
fn emptiest_corner(
    series: &[Series],
    ((x0, x1), (y0, y1)): ((f64, f64), (f64, f64)),
) -> SeriesLabelPosition {
    let mut counts = [0usize; 4]; // upper left, upper right, lower left, lower right
    for &(x, y) in series.iter().flat_map(|s| s.points.iter()) {
        let right = (x - x0) / (x1 - x0).max(1e-12) > 0.5;
        let lower = (y - y0) / (y1 - y0).max(1e-12) < 0.5;
        counts[usize::from(lower) * 2 + usize::from(right)] += 1;
    }
    let positions = [
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::LowerLeft,
        SeriesLabelPosition::LowerRight,
    ];
    let best = (0..4).rev().min_by_key(|&i| counts[i]).unwrap_or(3);
    positions[best].clone()
}

/// The plot's drawing error as an error of pgl.
fn drawing_failed<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow!("drawing failed: {e:?}")
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &Chart<'_>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(drawing_failed)?;
    let bounds = bounds(chart.series);
    let mut ctx = axes(&root, chart, bounds)?;
    for (i, s) in chart.series.iter().enumerate() {
        draw_series(&mut ctx, s, COLORS[i % COLORS.len()])?;
    }
    ctx.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .position(emptiest_corner(chart.series, bounds))
        .draw()
        .map_err(drawing_failed)?;
    root.present().map_err(drawing_failed)?;
    Ok(())
}

/// The chart's plotting area on `root` for data within `bounds`, with its caption, axes,
/// labels and grid drawn.
fn axes<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    chart: &Chart<'_>,
    ((x0, x1), (y0, y1)): ((f64, f64), (f64, f64)),
) -> Result<Plot<'a, DB>> {
    let x_pad = if chart.integer_x {
        0.25
    } else {
        (x1 - x0) * 0.03
    };
    let mut ctx = ChartBuilder::on(root)
        .caption(chart.title, ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(x0 - x_pad..x1 + x_pad, y0..y1)
        .map_err(drawing_failed)?;
    let integer_x = chart.integer_x;
    let x_ticks = if integer_x {
        ((x1 - x0).round() as usize + 1).min(20)
    } else {
        10
    };
    ctx.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .x_labels(x_ticks)
        .x_label_formatter(&|x| {
            if integer_x {
                format!("{}", x.round() as i64)
            } else {
                format!("{x:.2}")
            }
        })
        .y_label_formatter(&|y| format!("{y:.3}"))
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(drawing_failed)?;
    Ok(ctx)
}

/// Draws one series in `color`: its line (with a legend entry), its points and its error
/// bars.
fn draw_series<DB: DrawingBackend>(
    ctx: &mut Plot<'_, DB>,
    s: &Series,
    color: RGBColor,
) -> Result<()> {
    let style = ShapeStyle::from(&color).stroke_width(3);
    ctx.draw_series(LineSeries::new(s.points.iter().copied(), style))
        .map_err(drawing_failed)?
        .label(s.label.as_str())
        .legend(move |(x, y)| {
            PathElement::new(
                vec![(x, y), (x + 24, y)],
                ShapeStyle::from(&color).stroke_width(3),
            )
        });
    ctx.draw_series(s.points.iter().map(|&p| Circle::new(p, 5, color.filled())))
        .map_err(drawing_failed)?;
    // Error bars: a vertical segment from y - e to y + e with caps whose width is in
    // pixels, so that they look the same at every scale.
    let bar_style = ShapeStyle::from(&color).stroke_width(2);
    let bars: Vec<((f64, f64), f64)> = s.with_errors().filter(|&(_, e)| e > 0.0).collect();
    ctx.draw_series(
        bars.iter()
            .map(|&((x, y), e)| PathElement::new(vec![(x, y - e), (x, y + e)], bar_style)),
    )
    .map_err(drawing_failed)?;
    ctx.draw_series(bars.iter().flat_map(|&((x, y), e)| {
        [y - e, y + e].map(|end| {
            EmptyElement::at((x, end)) + PathElement::new(vec![(-6, 0), (6, 0)], bar_style)
        })
    }))
    .map_err(drawing_failed)?;
    Ok(())
}

/// Draws `chart` into `<stem>.svg` and `<stem>.png` (1000×650 pixels), each atomically: the
/// SVG is drawn in memory, the PNG into a temporary `<stem>.png.tmp.png` (the encoder picks
/// the format from the extension) that is fsynced and renamed.
pub fn write_chart(stem: &Path, chart: &Chart<'_>) -> Result<()> {
    register_font();
    let size = (1000, 650);
    let mut svg = String::new();
    draw(
        SVGBackend::with_string(&mut svg, size).into_drawing_area(),
        chart,
    )?;
    write_bytes_atomic(&stem.with_extension("svg"), svg.as_bytes())?;
    let png = stem.with_extension("png");
    let tmp = temporary_path(&png, "tmp.png");
    let drawn = draw(BitMapBackend::new(&tmp, size).into_drawing_area(), chart).and_then(|()| {
        File::open(&tmp)
            .and_then(|file| file.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))
    });
    if let Err(error) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(error);
    }
    publish(&tmp, &png)
}
