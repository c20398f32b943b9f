namespace FunctionalAsymptotics.Simulation

open System
open System.Collections.Generic
open System.Globalization
open System.IO
open System.Text
open System.Text.Json
open FunctionalAsymptotics

/// What a simulation run (or one shard of it) computes. Everything that determines the numbers is here,
/// so a directory's manifest says exactly which run its records belong to.
type RunSpec =
    {
        /// Registry name of the model.
        Model: string
        /// The model's full parameter map (defaults filled in).
        Parameters: Map<string, float>
        /// `alpha = m / n`; `m = floor(alpha n)`.
        Alpha: float
        /// The run seed; replicate `r` at `n` uses the stream of `(Seed, n, r)`.
        Seed: uint64
        /// Downstream sample sizes, distinct and `>= 1`.
        Grid: int[]
        /// Replicates per grid point.
        Reps: int
        /// This shard, `1 <= Shard <= Shards`.
        Shard: int
        /// Number of shards; the pair `(grid index g, replicate r)` belongs to shard `(g Reps + r) mod Shards + 1`.
        Shards: int
    }

/// Functions on run specifications.
[<RequireQualifiedAccess>]
module RunSpec =
    /// `m = floor(alpha n)`.
    let preTrainingSize (alpha: float) (n: int) : int = int (floor (alpha * float n))

    /// Checks the specification; raises `InvalidArgumentException` naming the bad field.
    let validate (spec: RunSpec) : unit =
        Check.positive "alpha" spec.Alpha
        Check.nonEmpty "grid" spec.Grid
        for n in spec.Grid do
            if n < 1 then Check.fail "grid" (sprintf "sample sizes must be >= 1, got %d" n)
            if preTrainingSize spec.Alpha n < 1 then Check.fail "grid" (sprintf "m = floor(alpha n) must be >= 1; n = %d is too small" n)
            if spec.Alpha * float n > float Int32.MaxValue then
                Check.fail "alpha" (sprintf "m = floor(alpha n) must be at most %d (a 32-bit count); n = %d gives %g" Int32.MaxValue n (spec.Alpha * float n))
        if (Array.distinct spec.Grid).Length <> spec.Grid.Length then Check.fail "grid" "sample sizes must be distinct"
        if spec.Reps < 1 then Check.fail "reps" (sprintf "must be >= 1, got %d" spec.Reps)
        if spec.Shards < 1 then Check.fail "shards" (sprintf "must be >= 1, got %d" spec.Shards)
        if spec.Shard < 1 || spec.Shard > spec.Shards then
            Check.fail "shard" (sprintf "must be in 1..%d, got %d" spec.Shards spec.Shard)

    /// Whether the pair `(grid index, replicate)` belongs to this shard.
    let owns (spec: RunSpec) (gridIndex: int) (replicate: int) : bool =
        int ((int64 gridIndex * int64 spec.Reps + int64 replicate) % int64 spec.Shards) + 1 = spec.Shard

    /// Equal in everything that determines the numbers (model, parameters, alpha, seed, grid, reps).
    let sameRun (a: RunSpec) (b: RunSpec) : bool =
        a.Model = b.Model && a.Parameters = b.Parameters && a.Alpha = b.Alpha && a.Seed = b.Seed
        && a.Grid = b.Grid && a.Reps = b.Reps

/// One stored replicate.
[<Struct>]
type ReplicateRecord =
    {
        /// Downstream sample size.
        N: int
        /// Replicate index.
        Replicate: int
        /// The outcome.
        Outcome: ReplicateOutcome
    }

/// A run directory: `manifest.json` (the `RunSpec`, written by temp file + rename) and
/// `replicates.jsonl` (one JSON object per replicate, appended in batches, each batch flushed to disk
/// with fsync). Numbers are written in shortest round-trip form, so reading gives back the same bits.
/// A kill can leave at most one torn last line; it is ignored, and removed on resume.
[<RequireQualifiedAccess>]
module Store =
    /// File name of the manifest.
    [<Literal>]
    let ManifestFile = "manifest.json"

    /// File name of the replicate records.
    [<Literal>]
    let RecordsFile = "replicates.jsonl"

    let private fmt (x: float) = x.ToString("R", CultureInfo.InvariantCulture)

    let private fail (path: string) (text: string) : 'T =
        raise (InvalidArgumentException(path, text))

    /// The manifest text of `spec`.
    let manifestJson (spec: RunSpec) : string =
        let sb = StringBuilder()
        sb.Append("{\"format\":1,\"model\":").Append(JsonSerializer.Serialize spec.Model)
          .Append(",\"parameters\":{") |> ignore
        spec.Parameters |> Map.toList |> List.iteri (fun i (k, v) ->
            if i > 0 then sb.Append(',') |> ignore
            sb.Append(JsonSerializer.Serialize k).Append(':').Append(fmt v) |> ignore)
        sb.Append("},\"alpha\":").Append(fmt spec.Alpha)
          .Append(",\"seed\":").Append(spec.Seed)
          .Append(",\"grid\":[").Append(String.Join(",", spec.Grid)).Append(']')
          .Append(",\"reps\":").Append(spec.Reps)
          .Append(",\"shard\":").Append(spec.Shard)
          .Append(",\"shards\":").Append(spec.Shards).Append("}\n") |> ignore
        sb.ToString()

    /// Writes `dir/manifest.json` atomically (temp file, fsync, rename).
    let writeManifest (dir: string) (spec: RunSpec) : unit =
        Directory.CreateDirectory dir |> ignore
        let path = Path.Combine(dir, ManifestFile)
        let temp = path + ".tmp"
        do
            use fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None)
            let bytes = Encoding.UTF8.GetBytes(manifestJson spec)
            fs.Write(bytes, 0, bytes.Length)
            fs.Flush(true)
        File.Move(temp, path, true)

    /// Reads `dir/manifest.json`.
    let readManifest (dir: string) : RunSpec =
        let path = Path.Combine(dir, ManifestFile)
        if not (File.Exists path) then fail "dir" (sprintf "'%s' has no %s (not a simulation directory)" dir ManifestFile)
        use doc = JsonDocument.Parse(File.ReadAllText path)
        let root = doc.RootElement
        try
            {
                Model = root.GetProperty("model").GetString() |> Option.ofObj |> Option.defaultValue ""
                Parameters =
                    root.GetProperty("parameters").EnumerateObject()
                    |> Seq.map (fun p -> p.Name, p.Value.GetDouble())
                    |> Map.ofSeq
                Alpha = root.GetProperty("alpha").GetDouble()
                Seed = root.GetProperty("seed").GetUInt64()
                Grid = root.GetProperty("grid").EnumerateArray() |> Seq.map (fun e -> e.GetInt32()) |> Array.ofSeq
                Reps = root.GetProperty("reps").GetInt32()
                Shard = root.GetProperty("shard").GetInt32()
                Shards = root.GetProperty("shards").GetInt32()
            }
        with
        | :? KeyNotFoundException
        | :? FormatException
        | :? InvalidOperationException -> fail path "malformed manifest"

    /// One record as a JSON line (with the trailing newline).
    let recordLine (r: ReplicateRecord) : string =
        let o = r.Outcome
        String.Concat(
            [| "{\"n\":"; string r.N; ",\"r\":"; string r.Replicate
               ",\"total\":"; fmt o.Total; ",\"pretrain\":"; fmt o.Pretrain
               ",\"leak\":"; fmt o.Leak; ",\"variance\":"; fmt o.Variance; "}\n" |])

    let private parseLine (path: string) (line: string) : ReplicateRecord =
        try
            use doc = JsonDocument.Parse line
            let e = doc.RootElement
            {
                N = e.GetProperty("n").GetInt32()
                Replicate = e.GetProperty("r").GetInt32()
                Outcome =
                    { Total = e.GetProperty("total").GetDouble()
                      Pretrain = e.GetProperty("pretrain").GetDouble()
                      Leak = e.GetProperty("leak").GetDouble()
                      Variance = e.GetProperty("variance").GetDouble() }
            }
        with
        | :? JsonException
        | :? KeyNotFoundException
        | :? FormatException
        | :? InvalidOperationException -> fail path (sprintf "malformed record line: %s" line)

    /// The complete records of `dir` (none if the file is missing), and the byte length of the complete
    /// part (a torn last line, without its newline, is left out).
    let readRecordsWithLength (dir: string) : ReplicateRecord[] * int64 =
        let path = Path.Combine(dir, RecordsFile)
        if not (File.Exists path) then [||], 0L
        else
            let bytes = File.ReadAllBytes path
            let lastNewline = Array.LastIndexOf(bytes, byte '\n')
            let complete = int64 (lastNewline + 1)
            let text = Encoding.UTF8.GetString(bytes, 0, lastNewline + 1)
            let records =
                text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                |> Array.map (parseLine path)
            records, complete

    /// The complete records of `dir`.
    let readRecords (dir: string) : ReplicateRecord[] = fst (readRecordsWithLength dir)

    /// Opens `dir/replicates.jsonl` for appending after `length` bytes (a torn tail beyond is cut off).
    let openForAppend (dir: string) (length: int64) : FileStream =
        let fs = new FileStream(Path.Combine(dir, RecordsFile), FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read)
        fs.SetLength length
        fs.Seek(length, SeekOrigin.Begin) |> ignore
        fs

    /// Appends a batch and flushes it to disk (fsync) before returning.
    let appendBatch (fs: FileStream) (batch: ReplicateRecord seq) : unit =
        let sb = StringBuilder()
        for r in batch do
            sb.Append(recordLine r) |> ignore
        let bytes = Encoding.UTF8.GetBytes(sb.ToString())
        fs.Write(bytes, 0, bytes.Length)
        fs.Flush(true)

    /// The outcomes of a complete run, per grid point in replicate order. Raises `InvalidArgumentException`
    /// if a record is missing, duplicated with different values, or outside the grid.
    let collect (spec: RunSpec) (records: ReplicateRecord seq) : ReplicateOutcome[][] =
        let index = spec.Grid |> Array.mapi (fun g n -> n, g) |> dict
        let table = Array.init spec.Grid.Length (fun _ -> Array.zeroCreate<ReplicateOutcome> spec.Reps)
        let seen = Array.init spec.Grid.Length (fun _ -> Array.zeroCreate<bool> spec.Reps)
        for r in records do
            match index.TryGetValue r.N with
            | true, g when r.Replicate >= 0 && r.Replicate < spec.Reps ->
                if seen.[g].[r.Replicate] && table.[g].[r.Replicate] <> r.Outcome then
                    fail "records" (sprintf "replicate (n = %d, r = %d) stored twice with different values" r.N r.Replicate)
                table.[g].[r.Replicate] <- r.Outcome
                seen.[g].[r.Replicate] <- true
            | _ -> fail "records" (sprintf "replicate (n = %d, r = %d) is not in the run's grid" r.N r.Replicate)
        let missing = seen |> Array.sumBy (Array.sumBy (fun b -> if b then 0 else 1))
        if missing > 0 then
            fail "records" (sprintf "%d of %d replicates are missing (run every shard, or resume the run)" missing (spec.Reps * spec.Grid.Length))
        table

    /// Merges shard directories of one run into `outDir` (as a single-shard run, records sorted by
    /// grid point and replicate). The shards must share model, parameters, alpha, seed, grid, reps and
    /// shard count, and together hold every replicate. Returns the merged specification.
    let merge (dirs: string list) (outDir: string) : RunSpec =
        if List.isEmpty dirs then fail "dirs" "give at least one shard directory"
        let specs = dirs |> List.map readManifest
        let first = List.head specs
        for d, s in List.zip dirs specs do
            if not (RunSpec.sameRun first s) || s.Shards <> first.Shards then
                fail "dirs" (sprintf "'%s' belongs to a different run than '%s'" d (List.head dirs))
        let merged = { first with Shard = 1; Shards = 1 }
        let records = dirs |> List.toArray |> Array.collect readRecords
        let table = collect merged records
        Directory.CreateDirectory outDir |> ignore
        if File.Exists(Path.Combine(outDir, RecordsFile)) then
            fail "out" (sprintf "'%s' already holds %s" outDir RecordsFile)
        writeManifest outDir merged
        use fs = openForAppend outDir 0L
        appendBatch fs (seq {
            for g in 0 .. merged.Grid.Length - 1 do
                for r in 0 .. merged.Reps - 1 do
                    yield { N = merged.Grid.[g]; Replicate = r; Outcome = table.[g].[r] } })
        merged
