/// The PNG figure of `fa predict`: the predicted scaled risk against alpha with its bands, the
/// downstream-only baseline and the crossover alpha0 with its interval (ScottPlot, headless).
module FunctionalAsymptotics.Cli.Plots.PredictionPlots

open System
open System.Globalization
open ScottPlot
open FunctionalAsymptotics.Prediction

let private text (x: float) = x.ToString("G4", CultureInfo.InvariantCulture)

/// Writes the figure to `path` (800 x 560): the predictive 5%-95% band of `n(R - sigma^2)` (shaded) and its mean
/// (solid), the 5% and 95% quantiles of the limit law at the estimate (light, dashed) and the bootstrap interval of
/// its mean (light shading), `sigma^2 d_base` (horizontal), `alpha0` (dotted) with its bootstrap interval (shaded
/// span) and the user's alpha (marker at the predictive mean).
let riskCurve (path: string) (p: RiskPrediction) : unit =
    use plt = new Plot()
    let xs = p.RiskCurve |> Array.map (fun c -> log10 c.Alpha)
    let curve (f: RiskCurvePoint -> float) = p.RiskCurve |> Array.map f
    let band = plt.Add.FillY(xs, curve (fun c -> c.Q05), curve (fun c -> c.Q95))
    band.LegendText <- "predictive 5%-95% band of n(R - sigma^2)"
    band.FillStyle.Color <- Colors.DarkOrange.WithAlpha(0.25)
    band.LineStyle.Width <- 0.0f
    if p.Bootstrap >= 2 then
        let ci = plt.Add.FillY(xs, curve (fun c -> c.MeanLower), curve (fun c -> c.MeanUpper))
        ci.LegendText <- sprintf "%g%% bootstrap interval of the limit law's mean" (100.0 * p.Level)
        ci.FillStyle.Color <- Colors.SteelBlue.WithAlpha(0.2)
        ci.LineStyle.Width <- 0.0f
    let mean = plt.Add.Scatter(xs, curve (fun c -> c.Mean))
    mean.LegendText <- "predictive mean of n(R - sigma^2)"
    mean.MarkerSize <- 0.0f
    mean.LineWidth <- 2.0f
    mean.Color <- Colors.SteelBlue
    let lawLine (f: RiskCurvePoint -> float) (legend: string) =
        let l = plt.Add.Scatter(xs, curve f)
        l.LegendText <- legend
        l.LinePattern <- LinePattern.Dashed
        l.MarkerSize <- 0.0f
        l.Color <- Colors.Gray.WithAlpha(0.6)
    lawLine (fun c -> c.LawQ05) "5% and 95% of the limit law at the estimate"
    lawLine (fun c -> c.LawQ95) ""
    let b = plt.Add.HorizontalLine(p.Baseline.Estimate)
    b.LegendText <- sprintf "downstream only: sigma^2 d_base = %s" (text p.Baseline.Estimate)
    b.Color <- Colors.Black
    let a0 = p.Alpha0
    if Double.IsFinite a0.Estimate && a0.Estimate > 0.0 then
        if Double.IsFinite a0.Lower && Double.IsFinite a0.Upper && a0.Lower > 0.0 then
            let span = plt.Add.HorizontalSpan(log10 a0.Lower, log10 a0.Upper)
            span.FillStyle.Color <- Colors.Gray.WithAlpha(0.2)
            span.LegendText <- sprintf "alpha0 interval [%s, %s]" (text a0.Lower) (text a0.Upper)
        let v = plt.Add.VerticalLine(log10 a0.Estimate)
        v.LegendText <- sprintf "alpha0 = %s (m0 = %s at n = %d)" (text a0.Estimate) (text p.UnlabelledToPayOff.Estimate) p.N
        v.LinePattern <- LinePattern.Dotted
        v.Color <- Colors.Gray
    let here = plt.Add.Marker(log10 p.Alpha, p.Predictive.Mean)
    here.LegendText <- sprintf "your alpha = m/n = %s" (text p.Alpha)
    here.Color <- Colors.Crimson
    here.Size <- 10.0f
    let top = p.RiskCurve |> Array.map (fun c -> c.Q95) |> Array.max
    plt.Axes.SetLimitsY(0.0, 1.15 * max p.Baseline.Estimate (min top (3.0 * p.Baseline.Estimate)))
    plt.Title(sprintf "%s: predicted downstream risk (n = %d)" p.Model p.N, Nullable())
    plt.XLabel("log10 alpha (alpha = m / n)", Nullable())
    plt.YLabel("scaled excess risk n (R - sigma^2)", Nullable())
    plt.ShowLegend(Alignment.UpperRight) |> ignore
    plt.SavePng(path, 800, 560) |> ignore
