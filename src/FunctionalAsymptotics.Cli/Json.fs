/// JSON output of the `fa` commands: System.Text.Json's Utf8JsonWriter, compact, numbers in their shortest
/// round-trip form. JSON has no NaN or infinities: those are written as the strings "NaN", "Infinity" and
/// "-Infinity" (System.Text.Json's named floating-point literals).
module FunctionalAsymptotics.Cli.Json

open System
open System.IO
open System.Text
open System.Text.Json

/// Writes `x` as a JSON number (shortest round-trip digits), or as a named literal string when non-finite.
let number (w: Utf8JsonWriter) (x: float) =
    if Double.IsFinite x then w.WriteNumberValue x
    elif Double.IsNaN x then w.WriteStringValue "NaN"
    elif x > 0.0 then w.WriteStringValue "Infinity"
    else w.WriteStringValue "-Infinity"

/// Writes the property `name: x` with `number`.
let property (w: Utf8JsonWriter) (name: string) (x: float) =
    w.WritePropertyName name
    number w x

/// Runs `write` on a compact writer and returns the JSON text (UTF-8, no trailing newline).
let render (write: Utf8JsonWriter -> unit) : string =
    use stream = new MemoryStream()
    do
        use w = new Utf8JsonWriter(stream, JsonWriterOptions(Indented = false))
        write w
        w.Flush()
    Encoding.UTF8.GetString(stream.ToArray())
