// The limit law of Theorem 5.1 from C#: n (R - sigma^2) => sigma^2 d_eff + alpha^-1 sum_j lambda_j chi^2_1.
using System.Globalization;
using FunctionalAsymptotics.CSharp;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// sigma^2 = 1, d_eff = 5, alpha = m / n = 2, and the eigenvalues lambda_j of V^1/2 G V^1/2.
var law = LimitLaw.Create(sigma2: 1.0, dEff: 5, alpha: 2.0, weights: [1.0, 0.5, 0.25, 0.125]);

static void Row(string label, string value) => Console.WriteLine($"{label,-30} = {value}");

Console.WriteLine($"E_alpha = sigma^2 d_eff + alpha^-1 ||L(Z)||^2 with lambda = [{string.Join(", ", law.Weights)}]");
Row("OLS term sigma^2 d_eff", $"{law.OlsTerm}");
Row("pre-training mean E||L(Z)||^2", $"{law.PretrainingMean}");
Row("mean", $"{law.Mean}");
Row("variance", $"{law.Variance}");
foreach (var p in new[] { 0.5, 0.9, 0.99 })
    Row($"quantile({p})", $"{law.Quantile(p):G10}");
var t = law.ExceedanceThreshold(0.05);
Row("95% exceedance threshold t", $"{t:G10}  (P(E_alpha >= t) = 0.05)");

var draws = law.Sample(seed: 2026UL, count: 5);
Row("5 draws (seed 2026)", string.Join(", ", draws.Select(x => x.ToString("G6"))));

// The same law as a generalized chi-square, with the method and error bound of one evaluation.
if (law.Distribution is { } q)
{
    var e = q.EvaluateSf(t);
    Console.WriteLine($"P(E_alpha > t) = {e.Value:G10} by {e.Method}, error <= {e.ErrorBound:G3}");
}

// A model of your own, defined with delegates and arrays (examples/CSharpExample/YourOwnModel.cs).
YourOwnModel.Run();
