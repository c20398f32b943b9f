/// PNG figures of a simulation run (ScottPlot, headless): Figure 3 (empirical CDFs against the limit) and
/// Figure 4 (convergence metrics against n) of the paper's Appendix K.
module FunctionalAsymptotics.Cli.Plots.SimulationPlots

open System
open System.IO
open ScottPlot
open SkiaSharp
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Simulation

/// Width and height in pixels of one panel.
let PanelWidth, PanelHeight = 640, 480

/// Grid points drawn in the CDF panels (the metrics use every one).
let MaxCdfCurves = 5

/// Points on each limit-CDF curve.
let LimitCurvePoints = 200

/// Quantile range of the limit-CDF curves.
let LimitQuantileRange = 0.001, 0.999

/// Step coordinates of the empirical CDF of `xs`.
let private ecdf (xs: float[]) =
    let sorted = Array.sort xs
    let r = float sorted.Length
    let px = sorted |> Array.collect (fun x -> [| x; x |])
    let py = sorted |> Array.mapi (fun i _ -> [| float i / r; float (i + 1) / r |]) |> Array.concat
    px, py

/// Indices of at most `MaxCdfCurves` grid points spread over the grid.
let private subset (count: int) =
    if count <= MaxCdfCurves then Array.init count id
    else Array.init MaxCdfCurves (fun i -> int (Math.Round(float i * float (count - 1) / float (MaxCdfCurves - 1)))) |> Array.distinct

let private limitCurve (plot: Plot) (law: LimitLaw) =
    let lo, hi = LimitLaw.quantile law (fst LimitQuantileRange), LimitLaw.quantile law (snd LimitQuantileRange)
    let xs = Array.init LimitCurvePoints (fun i -> lo + (hi - lo) * float i / float (LimitCurvePoints - 1))
    let line = plot.Add.ScatterLine(xs, xs |> Array.map (LimitLaw.cdf law), Nullable Colors.Black)
    line.LinePattern <- LinePattern.Dashed
    line.LineWidth <- 2.0f
    line.LegendText <- "limit"

let private panel (title: string) (xlabel: string) =
    let plot = new Plot()
    plot.Title(title, Nullable())
    plot.XLabel(xlabel, Nullable())
    plot.YLabel("CDF", Nullable())
    plot

let private savePanels (path: string) (plots: Plot[]) =
    let info = SKImageInfo(PanelWidth * plots.Length, PanelHeight)
    use surface = SKSurface.Create(info)
    surface.Canvas.Clear(SKColors.White)
    plots |> Array.iteri (fun i p ->
        // Each panel renders on its own surface (a plot clears the whole canvas it is given).
        use panelSurface = SKSurface.Create(SKImageInfo(PanelWidth, PanelHeight))
        p.Render(panelSurface)
        use panelImage = panelSurface.Snapshot()
        surface.Canvas.DrawImage(panelImage, float32 (i * PanelWidth), 0.0f))
    use image = surface.Snapshot()
    use data = image.Encode(SKEncodedImageFormat.Png, 100)
    use file = File.Create path
    data.SaveTo file

/// Figure 3: three panels (total `E_mn`, pre-training `n Rep`, variance part) of empirical CDFs for a
/// subset of the grid, with the limit CDFs dashed (for the variance part, the point mass at
/// `sigma^2 d_eff`). `outcomes.[g]` are grid point `g`'s replicates.
let figure3 (path: string) (model: PipelineModel) (spec: RunSpec) (outcomes: ReplicateOutcome[][]) : unit =
    use total = panel "total  n(R - sigma^2)" "E_mn"
    use pre = panel "pre-training  n Rep" "n Rep"
    use var = panel "variance part" "V_mn"
    for g in subset spec.Grid.Length do
        let label = sprintf "n = %d" spec.Grid.[g]
        for plot, pick in [ total, (fun (o: ReplicateOutcome) -> o.Total); pre, (fun o -> o.Pretrain); var, (fun o -> o.Variance) ] do
            let px, py = ecdf (outcomes.[g] |> Array.map pick)
            let line = plot.Add.ScatterLine(px, py, Nullable())
            line.LegendText <- label
    limitCurve total model.Law
    match model.Law.PretrainingTerm with
    | Some _ -> limitCurve pre (LimitLaw.create 0.0 0 model.Law.Alpha model.Law.Weights)
    | None -> ()
    let c = model.SigmaSquaredDEff
    let allV = outcomes |> Array.collect (Array.map (fun o -> o.Variance))
    let lo, hi = min c (Array.min allV), max c (Array.max allV)
    let step = var.Add.ScatterLine([| lo; c; c; hi |], [| 0.0; 0.0; 1.0; 1.0 |], Nullable Colors.Black)
    step.LinePattern <- LinePattern.Dashed
    step.LineWidth <- 2.0f
    step.LegendText <- "limit"
    for p in [ total; pre; var ] do p.ShowLegend(Alignment.LowerRight) |> ignore
    savePanels path [| total; pre; var |]

/// Figure 4: KS distances (total, pre-training) and the variance tail probability against `log10 n`, with the
/// 99% sampling band of the KS statistic for R replicates, `1.628 / sqrt R` (dashed).
let figure4 (path: string) (summaries: GridSummary[]) : unit =
    let plot = new Plot()
    plot.Title("convergence metrics", Nullable())
    plot.XLabel("log10 n", Nullable())
    plot.YLabel("distance / tail probability", Nullable())
    let xs = summaries |> Array.map (fun s -> log10 (float s.N))
    for label, ys in [ "KS distance: total", summaries |> Array.map (fun s -> s.KsTotal)
                       "KS distance: pre-training", summaries |> Array.map (fun s -> s.KsPretrain)
                       "variance concentration tail", summaries |> Array.map (fun s -> s.PVar) ] do
        let line = plot.Add.Scatter(xs, ys, Nullable())
        line.LegendText <- label
    // The 99% quantile of the Kolmogorov statistic for R replicates: the distances' sampling band.
    let reps = if summaries.Length = 0 then 0 else summaries |> Array.map (fun s -> s.Reps) |> Array.min
    if reps > 0 then
        let band = plot.Add.HorizontalLine(SimulationVerdict.ksBand reps)
        band.LinePattern <- LinePattern.Dashed
        band.LegendText <- sprintf "KS 99%% sampling band, R = %d" reps
    plot.Axes.SetLimitsY(0.0, 1.0)
    plot.ShowLegend(Alignment.UpperRight) |> ignore
    plot.SavePng(path, PanelWidth, PanelHeight) |> ignore
