/// Prediction/DataFile: CSV and Parquet round trips, and one typed error per kind of bad file.
module FunctionalAsymptotics.Tests.Prediction.DataFileTests

open System
open System.IO
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Prediction

/// A fresh temporary directory, deleted by the returned disposable.
let tempDir () =
    let dir = Path.Combine(Path.GetTempPath(), sprintf "fa-datafile-%s" (Guid.NewGuid().ToString("N")))
    Directory.CreateDirectory dir |> ignore
    dir, { new IDisposable with member _.Dispose() = Directory.Delete(dir, true) }

let private write (dir: string) (name: string) (lines: string list) =
    let path = Path.Combine(dir, name)
    File.WriteAllLines(path, lines)
    path

/// A small labelled table (x1, x2, y).
let private labelledTable rows =
    DataFile.ofArray "labelled" [| "x1"; "x2"; "y" |] (Array.init (3 * rows) (fun i -> float i * 0.37 - 1.0))

let private unlabelledLines = [ "x1,x2"; "1,2"; "3.5,-4e-1"; "0,1" ]

let tests =
    testList "Prediction.DataFile" [
        testCase "CSV round trip keeps every value bit for bit" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            let t = labelledTable 50
            let path = Path.Combine(dir, "t.csv")
            DataFile.writeCsv path t
            let back = DataFile.read path
            Expect.equal back.Columns t.Columns "columns"
            Expect.equal back.Rows 50 "rows"
            Expect.equal back.Values t.Values "values")
        testCase "Parquet round trip over several row groups keeps every value" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            let t = labelledTable 50
            let path = Path.Combine(dir, "t.parquet")
            DataFile.writeParquet 16 path t
            let back = DataFile.read path
            Expect.equal back.Columns t.Columns "columns"
            Expect.equal back.Values t.Values "values")
        testCase "pairing reorders the labelled columns by name and splits off y" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            let u = write dir "u.csv" unlabelledLines
            let l = write dir "l.csv" [ "y,x2,x1"; "10,2,1"; "20,4,3"; "30,6,5" ]
            let p = DataFile.readPair 1 u l
            Expect.equal p.Labels [| 10.0; 20.0; 30.0 |] "labels"
            Expect.equal p.Labelled.Values [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |] "features in the unlabelled order")
        testCase "missing y column: MissingColumnException naming the file and y" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            let u = write dir "u.csv" unlabelledLines
            let l = write dir "l.csv" [ "x1,x2,label"; "1,2,3"; "3,4,5"; "5,6,7" ]
            try DataFile.readPair 1 u l |> ignore; failtest "expected an exception"
            with :? MissingColumnException as e -> Expect.equal (e.Column, e.File) ("y", l) "column and file")
        testCase "missing feature column (same count, other name): MissingColumnException" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            let u = write dir "u.csv" unlabelledLines
            let l = write dir "l.csv" [ "x1,x3,y"; "1,2,3"; "3,4,5"; "5,6,7" ]
            try DataFile.readPair 1 u l |> ignore; failtest "expected an exception"
            with :? MissingColumnException as e -> Expect.equal e.Column "x2" "column")
        testCase "non-numeric cell: InvalidCellException with line, row and column" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            let u = write dir "u.csv" [ "x1,x2"; "1,2"; "3,abc" ]
            try DataFile.read u |> ignore; failtest "expected an exception"
            with :? InvalidCellException as e ->
                Expect.equal (e.Line, e.Row, e.Column, e.Text) (3L, 2L, "x2", "abc") "where"
                Expect.stringContains e.Message "not a number" "why")
        testCase "decimal comma is rejected, not misread (invariant culture)" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            let u = write dir "u.csv" [ "x1"; "1;5" ]
            Expect.throwsT<InvalidCellException> (fun () -> DataFile.read u |> ignore) "1;5")
        testCase "non-finite cells (NaN, Infinity) and empty cells: InvalidCellException" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            for bad, reason in [ "NaN", "not finite"; "Infinity", "not finite"; "-Infinity", "not finite"; "", "empty" ] do
                let u = write dir "u.csv" [ "x1,x2"; "1,2"; sprintf "%s,4" bad ]
                try DataFile.read u |> ignore; failtestf "expected an exception for '%s'" bad
                with :? InvalidCellException as e ->
                    Expect.equal (e.Row, e.Column) (2L, "x1") "where"
                    Expect.stringContains e.Message reason "why")
        testCase "Parquet NaN and null cells: InvalidCellException with the row" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            let path = Path.Combine(dir, "nan.parquet")
            let t = { labelledTable 20 with Values = (labelledTable 20).Values |> Array.mapi (fun i x -> if i = 3 * 17 + 1 then nan else x) }
            // ofArray rejects NaN, so the table is built directly to write a bad file.
            DataFile.writeParquet 8 path t
            try DataFile.read path |> ignore; failtest "expected an exception"
            with :? InvalidCellException as e -> Expect.equal (e.Row, e.Column) (18L, "x2") "where"
            let nullPath = Path.Combine(dir, "null.parquet")
            let field = Parquet.Schema.DataField<Nullable<float>>("x1")
            do
                use stream = File.Create nullPath
                let writer = Parquet.ParquetWriter.CreateAsync(Parquet.Schema.ParquetSchema(field), stream).GetAwaiter().GetResult()
                do
                    use g = writer.CreateRowGroup()
                    g.WriteAsync<float>(field, ReadOnlyMemory<Nullable<float>>([| Nullable 1.0; Nullable(); Nullable 2.0 |])).GetAwaiter().GetResult()
                    g.CompleteValidate()
                writer.DisposeAsync().AsTask().GetAwaiter().GetResult()
            try DataFile.read nullPath |> ignore; failtest "expected an exception"
            with :? InvalidCellException as e ->
                Expect.equal (e.Row, e.Column) (2L, "x1") "where"
                Expect.stringContains e.Message "null" "why")
        testCase "fewer rows than columns: TooFewRowsException" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            let u = write dir "u.csv" [ "x1,x2,x3"; "1,2,3"; "4,5,6" ]
            let l = write dir "l.csv" [ "x1,x2,x3,y"; "1,2,3,4"; "1,2,3,4"; "1,2,3,4" ]
            try DataFile.readPair 1 u l |> ignore; failtest "expected an exception"
            with :? TooFewRowsException as e -> Expect.equal (e.File, e.Rows, e.Required) (u, 2, 3) "rows")
        testCase "mismatched dimensions between the files: DimensionMismatchException" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            let u = write dir "u.csv" unlabelledLines
            let l = write dir "l.csv" [ "x1,x2,x3,y"; "1,2,3,4"; "1,2,3,4"; "1,2,3,4" ]
            Expect.throwsT<DimensionMismatchException> (fun () -> DataFile.readPair 1 u l |> ignore) "3 vs 2 features")
        testCase "ragged rows, interior blank lines and unknown formats are refused" (fun () ->
            let dir, cleanup = tempDir ()
            use _ = cleanup
            Expect.throwsT<DataFileException> (fun () -> DataFile.read (write dir "a.csv" [ "x1,x2"; "1,2"; "3" ]) |> ignore) "ragged"
            Expect.throwsT<DataFileException> (fun () -> DataFile.read (write dir "b.csv" [ "x1"; "1"; ""; "2" ]) |> ignore) "blank line"
            Expect.equal (DataFile.read (write dir "c.csv" [ "x1"; "1"; "2"; ""; "" ])).Rows 2 "trailing blank lines end the file"
            Expect.throwsT<InvalidArgumentException> (fun () -> DataFile.read (write dir "d.txt" [ "x1"; "1" ]) |> ignore) "format"
            Expect.throwsT<DataFileException> (fun () -> DataFile.read (Path.Combine(dir, "none.csv")) |> ignore) "missing file")
    ]
