/// The C# facade of the prediction (RiskPredictor): the same numbers as the F# core, and the user-model path.
module FunctionalAsymptotics.Tests.CSharp.PredictionFacadeTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics.Models
open FunctionalAsymptotics.Prediction
open FunctionalAsymptotics.CSharp.Estimation
open FunctionalAsymptotics.CSharp.Prediction

let private cfg = { Loadings = Factor.drawLoadings 2 4 1; Beta = [| 1.5 |]; SigmaNu2 = 0.5 }

let private arrays (data: PredictionData) =
    let t2 (t: DataTable) = Array2D.init t.Rows t.Width (fun i j -> t.Values.[i * t.Width + j])
    t2 data.Unlabelled, t2 data.Labelled, data.Labels

let tests =
    testList "CSharp.RiskPredictor" [
        testCase "PredictFactor (arrays) equals RiskPrediction.factor" (fun () ->
            let data = FactorValidation.simulate cfg 300 100 (Random 1)
            let u, l, y = arrays data
            let options = PredictionOptions(Bootstrap = 6, Seed = 4UL, N = Nullable 200)
            let cs = RiskPredictor.PredictFactor(u, l, y, 1, options)
            let fs = RiskPrediction.factor 1 { RiskPrediction.defaults with Bootstrap = 6; Seed = 4UL; N = Some 200 } data
            Expect.equal cs.Weights fs.Weights "weights"
            Expect.equal (cs.PretrainMean.Estimate, cs.PretrainMean.StdErr, cs.Alpha0.Lower) (fs.PretrainMean.Estimate, fs.PretrainMean.StdErr, fs.Alpha0.Lower) "intervals"
            Expect.equal cs.N 200 "n"
            Expect.equal (cs.Predictive.Mean, cs.Predictive.Q05, cs.Predictive.Q50, cs.Predictive.Q95, cs.Predictive.Draws)
                         (fs.Predictive.Mean, fs.Predictive.Q05, fs.Predictive.Q50, fs.Predictive.Q95, fs.Predictive.Draws) "predictive"
            Expect.equal cs.RiskCurve.Length fs.RiskCurve.Length "curve"
            let c, f = cs.RiskCurve.[3], fs.RiskCurve.[3]
            Expect.equal (c.Mean, c.Q05, c.Q95, c.LawMean, c.LawQ05, c.LawQ95, c.MeanLower) (f.Mean, f.Q05, f.Q95, f.LawMean, f.LawQ05, f.LawQ95, f.MeanLower) "curve point")
        testCase "PredictUserModel with the factor specification and a PPCA fit agrees with PredictFactor" (fun () ->
            let data = FactorValidation.simulate cfg 300 100 (Random 2)
            let u, l, y = arrays data
            let spec = ModelSpecification.Factor(cfg.Loadings.ToArray(), cfg.Beta, cfg.SigmaNu2)
            let fit = Func<float[][], float[,]>(fun rows -> (Factor.fitPpca 1 (DenseMatrix.OfRowArrays rows)).ToArray())
            let options = PredictionOptions(Bootstrap = 0)
            let user = RiskPredictor.PredictUserModel(spec, fit, u, l, y, options)
            let factor = RiskPredictor.PredictFactor(u, l, y, 1, options)
            Expect.isLessThan (abs (user.PretrainMean.Estimate - factor.PretrainMean.Estimate) / factor.PretrainMean.Estimate) 1e-8 "E||L||^2"
            Expect.isTrue (Double.IsNaN user.PretrainMean.StdErr) "no bootstrap: NaN standard error")
        testCase "PredictGmm (arrays) equals RiskPrediction.gmm; components < 2 is refused" (fun () ->
            let data = MixtureValidation.simulate { K = 2; D = 3; Beta = 2.0; ThetaNorm = 10.0; Sigma2 = 1.0; PopulationDraws = 1000 } 500 100 (Random 3)
            let u, l, y = arrays data
            let options = PredictionOptions(Bootstrap = 4, Seed = 2UL, M = Nullable 2000)
            let cs = RiskPredictor.PredictGmm(u, l, y, 2, options)
            let fs = RiskPrediction.gmm 2 { RiskPrediction.defaults with Bootstrap = 4; Seed = 2UL; M = Some 2000 } data
            Expect.equal cs.Weights fs.Weights "weights"
            Expect.equal (cs.PretrainMean.Estimate, cs.PretrainMean.StdErr, cs.Alpha0.Upper) (fs.PretrainMean.Estimate, fs.PretrainMean.StdErr, fs.Alpha0.Upper) "intervals"
            Expect.equal (cs.Model, cs.M, cs.DEff) ("gmm", 2000, 4) "model, m, d_eff"
            Expect.throwsT<FunctionalAsymptotics.InvalidArgumentException> (fun () -> RiskPredictor.PredictGmm(u, l, y, 1) |> ignore) "components")
        testCase "mismatched columns raise DimensionMismatchException" (fun () ->
            Expect.throwsT<FunctionalAsymptotics.DimensionMismatchException>
                (fun () -> RiskPredictor.PredictFactor(Array2D.zeroCreate 10 3, Array2D.zeroCreate 10 2, Array.zeroCreate 10, 1) |> ignore) "columns")
    ]
