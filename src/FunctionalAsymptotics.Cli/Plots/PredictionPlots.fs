/// The PNG figure of `fa predict`: the predicted scaled risk against alpha with its bands, the
/// downstream-only baseline and the crossover alpha0 with its interval (ScottPlot, headless).
module FunctionalAsymptotics.Cli.Plots.PredictionPlots

open System
open System.Globalization
open ScottPlot
open FunctionalAsymptotics.Prediction

let private text (x: float) = x.ToString("G4", CultureInfo.InvariantCulture)

/// Writes the figure to `path` (800 x 560): the mean of `n(R - sigma^2)` at the estimate (solid), its
/// bootstrap interval (shaded), the 5% and 95% quantiles of the law (dashed), `sigma^2 d_base` (horizontal),
/// `alpha0` (dotted) with its bootstrap interval (shaded span) and the user's alpha (marker).
let riskCurve (path: string) (p: RiskPrediction) : unit =
    use plt = new Plot()
    let xs = p.RiskCurve |> Array.map (fun c -> log10 c.Alpha)
    if p.Bootstrap >= 2 then
        let band = plt.Add.FillY(xs, p.RiskCurve |> Array.map (fun c -> c.MeanLower), p.RiskCurve |> Array.map (fun c -> c.MeanUpper))
        band.LegendText <- sprintf "%g%% bootstrap interval of the mean" (100.0 * p.Level)
        band.FillStyle.Color <- Colors.SteelBlue.WithAlpha(0.3)
        band.LineStyle.Width <- 0.0f
    let mean = plt.Add.Scatter(xs, p.RiskCurve |> Array.map (fun c -> c.Mean))
    mean.LegendText <- "predicted mean of n(R - sigma^2)"
    mean.MarkerSize <- 0.0f
    mean.LineWidth <- 2.0f
    mean.Color <- Colors.SteelBlue
    let lo = plt.Add.Scatter(xs, p.RiskCurve |> Array.map (fun c -> c.Q05))
    lo.LegendText <- "5% and 95% quantiles"
    lo.LinePattern <- LinePattern.Dashed
    lo.MarkerSize <- 0.0f
    lo.Color <- Colors.DarkOrange
    let hi = plt.Add.Scatter(xs, p.RiskCurve |> Array.map (fun c -> c.Q95))
    hi.LinePattern <- LinePattern.Dashed
    hi.MarkerSize <- 0.0f
    hi.Color <- Colors.DarkOrange
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
    let here = plt.Add.Marker(log10 p.Alpha, p.Mean.Estimate)
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
