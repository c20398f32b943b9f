module FunctionalAsymptotics.Tests.Cli.LawCommandTests

open System
open System.Diagnostics
open System.IO
open System.Text.Json
open Expecto
open FunctionalAsymptotics.Distributions
open FunctionalAsymptotics.Cli

/// Runs `fa` in-process; returns (exit code, stdout, stderr).
let private fa (args: string list) =
    use out = new StringWriter()
    use err = new StringWriter()
    let code = Program.run { Out = out; Error = err } (Array.ofList args)
    code, out.ToString(), err.ToString()

let private lines (s: string) = s.Split('\n', StringSplitOptions.RemoveEmptyEntries)

let private names (e: JsonElement) = [ for p in e.EnumerateObject() -> p.Name ]

let private badInputs =
    [ [ "law"; "--weights"; "1,abc" ], "unparseable number"
      [ "law"; "--weights"; "1,2"; "--dof"; "1" ], "mismatched lengths"
      [ "law"; "--weights"; "1,2"; "--noncentrality"; "0,0,0" ], "mismatched noncentralities"
      [ "law"; "--weights"; "1,0" ], "zero weight (core InvalidArgumentException)"
      [ "law"; "--weights"; "1"; "--scale"; "-1" ], "negative scale (core)"
      [ "law"; "--weights"; "1"; "--dof"; "1.5" ], "non-integer dof"
      [ "law"; "--weights"; "1"; "--offset"; "x" ], "unparseable offset (Argu)"
      [ "law" ], "missing --weights"
      [ "law"; "--weights"; "1"; "--bogus" ], "unknown option"
      [ "bogus" ], "unknown command"
      [], "no command" ]

let tests =
    testList "Cli" [
        testList "bad input exits 2 with one line on stderr" [
            for args, name in badInputs ->
                testCase name <| fun () ->
                    let code, out, err = fa args
                    Expect.equal code 2 "exit code"
                    Expect.equal out "" "nothing on stdout"
                    Expect.equal (lines err).Length 1 (sprintf "one line on stderr: %s" err)
                    Expect.stringStarts err "fa: " "prefixed"
        ]
        testCase "--help exits 0 and explains every option" <| fun () ->
            let code, out, _ = fa [ "law"; "--help" ]
            Expect.equal code 0 "exit code"
            for option in [ "--weights"; "--dof"; "--noncentrality"; "--offset"; "--scale"; "--cdf"; "--sf"; "--quantile"; "--json" ] do
                Expect.stringContains out option option
        testCase "the JSON object has the documented shape (hand-made report)" <| fun () ->
            let report : Commands.Law.LawReport =
                { Law = GeneralizedChiSquare.ofWeights [| 1.0; 0.5 |]
                  Cdf = [| 2.0, 0.25; 1.0, 0.125 |]
                  Sf = [| 3.0, 0.1 |]
                  Quantile = [| 0.5, 1.2; 1.0, infinity |]
                  Method = "ruben"
                  ErrorBound = 1e-13 }
            let json = Commands.Law.toJson report
            Expect.isFalse (json.Contains "\n") "one line"
            use doc = JsonDocument.Parse json
            let root = doc.RootElement
            Expect.equal (names root) [ "mean"; "variance"; "cdf"; "sf"; "quantile"; "method"; "errorBound" ] "keys"
            Expect.equal (root.GetProperty("mean").GetDouble()) 1.5 "mean"
            Expect.equal (root.GetProperty("variance").GetDouble()) 2.5 "variance"
            let cdf = [ for e in root.GetProperty("cdf").EnumerateArray() -> names e, e.GetProperty("x").GetDouble(), e.GetProperty("value").GetDouble() ]
            Expect.equal cdf [ [ "x"; "value" ], 2.0, 0.25; [ "x"; "value" ], 1.0, 0.125 ] "cdf in the given order"
            let q = root.GetProperty("quantile").EnumerateArray() |> Seq.toList
            Expect.equal (names q.[0]) [ "p"; "value" ] "quantile keys"
            Expect.equal (q.[1].GetProperty("value").GetString()) "Infinity" "non-finite as a named literal"
            Expect.equal (root.GetProperty("method").GetString()) "ruben" "method"
            Expect.equal (root.GetProperty("errorBound").GetDouble()) 1e-13 "error bound"
        testCase "the table renders a hand-made report" <| fun () ->
            let report : Commands.Law.LawReport =
                { Law = GeneralizedChiSquare.ofWeights [| 1.0; 0.5 |]
                  Cdf = [| 2.0, 0.25 |]
                  Sf = [| 3.0, 0.1 |]
                  Quantile = [| 0.95, 4.5 |]
                  Method = "ruben"
                  ErrorBound = 1e-13 }
            use out = new StringWriter()
            let output : Common.Output = { Out = out; Error = out }
            Commands.Law.render output.Console report
            let text = out.ToString()
            for s in [ "mean"; "1.5"; "P(Q <= 2)"; "P(Q > 3)"; "quantile(0.95)"; "4.5"; "ruben"; "1E-13" ] do
                Expect.stringContains text s s
        testCase "numbers are written in shortest round-trip form" <| fun () ->
            let json = Json.render (fun w -> w.WriteStartArray(); Json.number w 0.1; Json.number w (1.0 / 3.0); Json.number w 1e-300; w.WriteEndArray())
            Expect.equal json "[0.1,0.3333333333333333,1E-300]" ""
        testCase "the built fa executable exits 2 on bad input" <| fun () ->
            let dll = Path.Combine(AppContext.BaseDirectory, "fa.dll")
            Expect.isTrue (File.Exists dll) "fa.dll is copied next to the tests"
            let psi = ProcessStartInfo("dotnet", sprintf "\"%s\" law --weights 1,abc --json" dll,
                                       RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
            use p = nonNull (Process.Start psi)
            let out = p.StandardOutput.ReadToEnd()
            let err = p.StandardError.ReadToEnd()
            p.WaitForExit()
            Expect.equal p.ExitCode 2 "exit code"
            Expect.equal out "" "no stdout"
            Expect.equal (lines err).Length 1 "one line on stderr"
        // These need the core's cdf/sf/quantile (Ruben/Imhof).
        testList "end to end (need the core's cdf)" [
            testCase "moments beyond the double range print from their logarithm: an overflow, and an underflow never as 0" (fun () ->
                let code, out, _ = fa [ "law"; "--weights"; "1e200,2e200"; "--json" ]
                Expect.equal code 0 "exit 0"
                use big = JsonDocument.Parse out
                Expect.equal (big.RootElement.GetProperty("variance").GetString()) "1.000000E401" "variance 1e401 (2 (1 + 4) 1e400)"
                let code2, out2, _ = fa [ "law"; "--weights"; "1e-200"; "--json" ]
                Expect.equal code2 0 "exit 0"
                use small = JsonDocument.Parse out2
                Expect.equal (small.RootElement.GetProperty("variance").GetString()) "2.000000E-400" "variance 2e-400, not 0"
                Expect.equal (small.RootElement.GetProperty("mean").GetDouble()) 1e-200 "the mean is a double")
            testCase "fa law --json prints exactly one JSON object" <| fun () ->
                let code, out, err = fa [ "law"; "--weights"; "1,0.5,0.25"; "--cdf"; "2,1"; "--sf"; "3"; "--quantile"; "0.5,0.95"; "--json" ]
                Expect.equal (code, err) (0, "") "exit 0, no stderr"
                Expect.equal (lines out).Length 1 "one line"
                use doc = JsonDocument.Parse out
                let root = doc.RootElement
                Expect.equal (names root) [ "mean"; "variance"; "cdf"; "sf"; "quantile"; "method"; "errorBound" ] "keys"
                Expect.equal (root.GetProperty("mean").GetDouble()) 1.75 "mean"
                Expect.equal (root.GetProperty("variance").GetDouble()) 2.625 "variance"
                let xs = [ for e in root.GetProperty("cdf").EnumerateArray() -> e.GetProperty("x").GetDouble() ]
                Expect.equal xs [ 2.0; 1.0 ] "cdf points in order"
                let ps = [ for e in root.GetProperty("quantile").EnumerateArray() -> e.GetProperty("p").GetDouble() ]
                Expect.equal ps [ 0.5; 0.95 ] "quantile probabilities in order"
                let q = GeneralizedChiSquare.ofWeights [| 1.0; 0.5; 0.25 |]
                let v = root.GetProperty("cdf").[0].GetProperty("value").GetDouble()
                Expect.floatClose { absolute = 1e-10; relative = 0.0 } v (GeneralizedChiSquare.cdf q 2.0) "cdf value"
                Expect.contains [ "ruben"; "imhof" ] (root.GetProperty("method").GetString()) "method"
                Expect.isGreaterThanOrEqual (root.GetProperty("errorBound").GetDouble()) 0.0 "error bound"
            testCase "with no points, method and error bound come from the mean" <| fun () ->
                let code, out, _ = fa [ "law"; "--weights"; "-1,2"; "--offset"; "-1"; "--json" ]
                Expect.equal code 0 "exit code"
                use doc = JsonDocument.Parse out
                Expect.equal (doc.RootElement.GetProperty("cdf").GetArrayLength()) 0 "empty cdf"
                Expect.equal (doc.RootElement.GetProperty("method").GetString()) "imhof" "mixed signs use Imhof"
            testCase "the table mentions every requested quantity" <| fun () ->
                let code, out, _ = fa [ "law"; "--weights"; "1,0.5,0.25"; "--quantile"; "0.5,0.95" ]
                Expect.equal code 0 "exit code"
                for s in [ "mean"; "variance"; "quantile(0.5)"; "quantile(0.95)"; "method" ] do Expect.stringContains out s s
        ]
    ]
