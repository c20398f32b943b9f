namespace FunctionalAsymptotics.Prediction

open System
open System.Globalization
open System.IO
open System.Threading
open FunctionalAsymptotics

/// A data file is unusable: `File` names it and `Location` says where (a column, or a row and a column).
/// Raised before any estimation starts; the data are never silently repaired or filtered.
type DataFileException(file: string, location: string, problem: string) =
    inherit InvalidArgumentException(file, sprintf "%s: %s" location problem)
    /// The file concerned.
    member _.File = file
    /// Where in the file (e.g. "column 'y'", "line 7 (data row 6), column 'x3'").
    member _.Location = location
    /// What is wrong, in words.
    member _.Problem = problem

/// A required column is absent from a file's header.
type MissingColumnException(file: string, column: string, present: string[]) =
    inherit DataFileException(file, sprintf "column '%s'" column,
                              sprintf "missing (the header has: %s)" (String.Join(", ", present)))
    /// The missing column.
    member _.Column = column

/// A cell is not a number, or is NaN or infinite, or is empty (a missing value).
type InvalidCellException(file: string, row: int64, line: int64, column: string, text: string, reason: string) =
    inherit DataFileException(file, (if line > 0L then sprintf "line %d (data row %d), column '%s'" line row column
                                     else sprintf "data row %d, column '%s'" row column),
                              sprintf "'%s' %s" text reason)
    /// The 1-based data row (the header is not counted).
    member _.Row = row
    /// The 1-based line of a text file (0 for binary formats).
    member _.Line = line
    /// The column.
    member _.Column = column
    /// The cell's text.
    member _.Text = text

/// A file has fewer data rows than the estimation needs (at least as many rows as feature columns).
type TooFewRowsException(file: string, rows: int, required: int, why: string) =
    inherit DataFileException(file, "rows", sprintf "%d data row(s), at least %d needed (%s)" rows required why)
    /// The rows present.
    member _.Rows = rows
    /// The rows needed.
    member _.Required = required

/// A table of numbers read from a file: `Rows` rows of `Columns.Length` values, stored row-major in one
/// compact `float[]` (8 bytes a cell; no per-row objects).
type DataTable =
    { /// The file it was read from (for error messages).
      File: string
      /// The column names, in file order.
      Columns: string[]
      /// The number of data rows.
      Rows: int
      /// Row-major values: cell `(i, j)` is `Values.[i * Columns.Length + j]`.
      Values: float[] }
    /// The number of columns.
    member t.Width = t.Columns.Length

/// The two data sets of a prediction, validated against each other: the unlabelled pre-training inputs
/// (`m x d`) and the labelled downstream inputs (`n x d`, columns in the unlabelled file's order) with
/// their labels `y` (length `n`).
type PredictionData =
    { /// Pre-training inputs, `m x d`.
      Unlabelled: DataTable
      /// Downstream inputs, `n x d` (the labelled file without its `y` column, reordered by name).
      Labelled: DataTable
      /// Downstream labels (the `y` column).
      Labels: float[] }

/// Streaming readers for CSV (header row, comma-separated, invariant-culture numbers) and Parquet
/// (numeric columns: double, float, int32, int64, nullable or not) files. CSV is read line by line and
/// Parquet row group by row group: the only whole-file object is the compact `DataTable` when one is
/// asked for (`read`).
[<RequireQualifiedAccess>]
module DataFile =

    /// The label column of a labelled file.
    [<Literal>]
    let LabelColumn = "y"

    /// The file formats, by extension (`.csv`, `.parquet`).
    type Format =
        /// Comma-separated text with a header row.
        | Csv
        /// Apache Parquet.
        | Parquet

    /// The format of `path` from its extension; `InvalidArgumentException` for any other extension.
    let formatOf (path: string) =
        match (match Path.GetExtension path with null -> "" | e -> e.ToLowerInvariant()) with
        | ".csv" -> Csv
        | ".parquet" -> Parquet
        | ext -> Check.fail path (sprintf "unknown data format '%s' (use .csv or .parquet)" ext)

    let private parseCell (file: string) (row: int64) (line: int64) (column: string) (text: string) =
        let t = text.Trim()
        if t.Length = 0 then raise (InvalidCellException(file, row, line, column, text, "is empty (a missing value)"))
        match Double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, x when Double.IsFinite x -> x
        | true, _ -> raise (InvalidCellException(file, row, line, column, text, "is not finite"))
        | _ -> raise (InvalidCellException(file, row, line, column, text, "is not a number (invariant culture, e.g. -1.5e-3)"))

    let private unquote (s: string) =
        let t = s.Trim()
        if t.Length >= 2 && t.[0] = '"' && t.[t.Length - 1] = '"' then t.Substring(1, t.Length - 2) else t

    let private checkHeader (file: string) (columns: string[]) =
        if columns.Length = 0 then raise (DataFileException(file, "header", "has no columns"))
        columns |> Array.iteri (fun j c ->
            if c.Length = 0 then raise (DataFileException(file, sprintf "header column %d" (j + 1), "has an empty name"))
            if Array.IndexOf(columns, c) <> j then raise (DataFileException(file, sprintf "column '%s'" c, "appears twice in the header")))

    /// Streams a CSV file: `onHeader columns` once, then `onRow row values` per data row (`values` is a
    /// buffer reused between rows). Blank lines are allowed only at the end of the file.
    let private scanCsv (file: string) (onHeader: string[] -> unit) (onRow: int64 -> float[] -> unit) =
        use reader = new StreamReader(file)
        let header =
            match reader.ReadLine() with
            | null -> raise (DataFileException(file, "line 1", "no header row (the file is empty)"))
            | h when String.IsNullOrWhiteSpace h -> raise (DataFileException(file, "line 1", "no header row"))
            | h -> h
        let columns = header.Split(',') |> Array.map unquote
        checkHeader file columns
        onHeader columns
        let values = Array.zeroCreate columns.Length
        let mutable line = 1L
        let mutable row = 0L
        let mutable blankLine = 0L
        let mutable next = reader.ReadLine()
        while not (isNull next) do
            let text = match next with null -> "" | t -> t
            line <- line + 1L
            if String.IsNullOrWhiteSpace text then
                if blankLine = 0L then blankLine <- line
            else
                if blankLine > 0L then
                    raise (DataFileException(file, sprintf "line %d" blankLine, "is blank but data rows follow (blank lines are allowed only at the end)"))
                row <- row + 1L
                let cells = text.Split(',')
                if cells.Length <> columns.Length then
                    raise (DataFileException(file, sprintf "line %d (data row %d)" line row,
                                             sprintf "has %d cells, the header has %d columns" cells.Length columns.Length))
                for j in 0 .. cells.Length - 1 do
                    values.[j] <- parseCell file row line columns.[j] (unquote cells.[j])
                onRow row values
            next <- reader.ReadLine()

    let private wait (t: Threading.Tasks.Task<'T>) = t.GetAwaiter().GetResult()

    /// Disposes an `IAsyncDisposable` synchronously at the end of a `use` scope.
    let private asyncDisposer (x: IAsyncDisposable) =
        { new IDisposable with member _.Dispose() = x.DisposeAsync().AsTask().GetAwaiter().GetResult() }

    /// Reads a Parquet column of CLR element type `'T` into `target` (as doubles), rejecting nulls and
    /// non-finite values.
    let private readTyped<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (file: string) (group: Parquet.ParquetRowGroupReader) (field: Parquet.Schema.DataField) (firstRow: int64) (target: float[]) (convert: 'T -> float) =
        let count = target.Length
        let fail (i: int) (text: string) (reason: string) =
            raise (InvalidCellException(file, firstRow + int64 i + 1L, 0L, field.Name, text, reason))
        let store (i: int) (x: float) =
            if not (Double.IsFinite x) then fail i (x.ToString(CultureInfo.InvariantCulture)) "is not finite"
            target.[i] <- x
        if field.IsNullable then
            let buffer = Array.zeroCreate<Nullable<'T>> count
            group.ReadAsync<'T>(field, Memory<Nullable<'T>>(buffer), Nullable(), CancellationToken.None).AsTask().GetAwaiter().GetResult() |> ignore
            for i in 0 .. count - 1 do
                if buffer.[i].HasValue then store i (convert buffer.[i].Value) else fail i "null" "is null (a missing value)"
        else
            let buffer = Array.zeroCreate<'T> count
            group.ReadAsync<'T>(field, Memory<'T>(buffer), Nullable(), CancellationToken.None).AsTask().GetAwaiter().GetResult() |> ignore
            for i in 0 .. count - 1 do store i (convert buffer.[i])

    /// Reads one numeric Parquet column of a row group into `target`.
    let private readParquetColumn (file: string) (group: Parquet.ParquetRowGroupReader) (field: Parquet.Schema.DataField) (firstRow: int64) (target: float[]) =
        let t = field.ClrType
        if t = typeof<float> then readTyped<float> file group field firstRow target id
        elif t = typeof<float32> then readTyped<float32> file group field firstRow target float
        elif t = typeof<int> then readTyped<int> file group field firstRow target float
        elif t = typeof<int64> then readTyped<int64> file group field firstRow target float
        else raise (DataFileException(file, sprintf "column '%s'" field.Name, sprintf "has type %s; numeric columns (double, float, int32, int64) are required" t.Name))

    /// Streams a Parquet file row group by row group (one group's columns in memory at a time).
    let private scanParquet (file: string) (onHeader: string[] -> unit) (onRow: int64 -> float[] -> unit) =
        use stream = File.OpenRead file
        let reader =
            try wait (Parquet.ParquetReader.CreateAsync(stream, null, false, CancellationToken.None))
            with e -> raise (DataFileException(file, "file", sprintf "is not a readable Parquet file (%s)" e.Message))
        use _ = asyncDisposer reader
        let fields = reader.Schema.GetDataFields()
        let columns = fields |> Array.map (fun f -> f.Name)
        checkHeader file columns
        onHeader columns
        let values = Array.zeroCreate columns.Length
        let mutable first = 0L
        for g in 0 .. reader.RowGroupCount - 1 do
            use group = reader.OpenRowGroupReader g
            let rows = int group.RowCount
            let data = fields |> Array.map (fun f -> let a = Array.zeroCreate rows in readParquetColumn file group f first a; a)
            for i in 0 .. rows - 1 do
                for j in 0 .. columns.Length - 1 do values.[j] <- data.[j].[i]
                onRow (first + int64 i + 1L) values
            first <- first + int64 rows

    /// Streams `path` (format by extension): `onHeader columns` once, then `onRow row values` for every
    /// data row in order (`row` 1-based; `values` is a buffer reused between rows, copy it to keep it).
    /// Raises `DataFileException` (or a subtype) for a missing file, an unreadable header, a non-numeric,
    /// empty, null or non-finite cell, or a ragged row.
    let scan (path: string) (onHeader: string[] -> unit) (onRow: int64 -> float[] -> unit) : unit =
        if String.IsNullOrWhiteSpace path then Check.fail "path" "must be a file name"
        let format = formatOf path
        if not (File.Exists path) then raise (DataFileException(path, "file", "not found"))
        match format with
        | Csv -> scanCsv path onHeader onRow
        | Parquet -> scanParquet path onHeader onRow

    /// Reads `path` whole into a compact row-major `DataTable` (streamed: one line or row group at a time
    /// besides the growing value array).
    let read (path: string) : DataTable =
        let mutable columns = [||]
        let values = ResizeArray<float>()
        scan path (fun c -> columns <- c) (fun _ row -> values.AddRange row)
        let rows = if columns.Length = 0 then 0 else values.Count / columns.Length
        { File = path; Columns = columns; Rows = rows; Values = values.ToArray() }

    /// The table restricted to `columns` (in that order); `MissingColumnException` names the first absent one.
    let select (columns: string[]) (t: DataTable) : DataTable =
        let index = columns |> Array.map (fun c -> match Array.IndexOf(t.Columns, c) with -1 -> raise (MissingColumnException(t.File, c, t.Columns)) | j -> j)
        let w, v = t.Width, columns.Length
        let values = Array.zeroCreate (t.Rows * v)
        for i in 0 .. t.Rows - 1 do
            for j in 0 .. v - 1 do values.[i * v + j] <- t.Values.[i * w + index.[j]]
        { t with Columns = Array.copy columns; Values = values }

    /// One column's values.
    let column (name: string) (t: DataTable) : float[] = (select [| name |] t).Values

    /// Validates and pairs the two data sets. The unlabelled file's columns are the features (it must not
    /// have a `y` column); the labelled file must have `y` and exactly the same feature columns (any order;
    /// they are reordered to the unlabelled file's order). Each file needs at least as many rows as there
    /// are features (`minRows` may ask for more). Raises `MissingColumnException`, `DimensionMismatchException`,
    /// `TooFewRowsException`.
    let pair (minRows: int) (unlabelled: DataTable) (labelled: DataTable) : PredictionData =
        if Array.contains LabelColumn unlabelled.Columns then
            raise (DataFileException(unlabelled.File, sprintf "column '%s'" LabelColumn, "the unlabelled (pre-training) file must not have a label column"))
        if not (Array.contains LabelColumn labelled.Columns) then
            raise (MissingColumnException(labelled.File, LabelColumn, labelled.Columns))
        let d = unlabelled.Width
        if labelled.Width - 1 <> d then
            raise (DimensionMismatchException(labelled.File, sprintf "%d feature columns (as in %s) plus '%s'" d unlabelled.File LabelColumn,
                                              sprintf "%d feature columns plus '%s'" (labelled.Width - 1) LabelColumn))
        let need = max d minRows
        if unlabelled.Rows < need then raise (TooFewRowsException(unlabelled.File, unlabelled.Rows, need, sprintf "%d feature columns" d))
        if labelled.Rows < need then raise (TooFewRowsException(labelled.File, labelled.Rows, need, sprintf "%d feature columns" d))
        { Unlabelled = unlabelled; Labelled = select unlabelled.Columns labelled; Labels = column LabelColumn labelled }

    /// The labelled table with its label column `y` appended again (the inverse of `pair`'s split): the rows
    /// `(x, y)` as a labelled file holds them.
    let labelledTable (data: PredictionData) : DataTable =
        let t = data.Labelled
        let w = t.Width
        { t with
            Columns = Array.append t.Columns [| LabelColumn |]
            Values = Array.init (t.Rows * (w + 1)) (fun idx -> let i, j = idx / (w + 1), idx % (w + 1) in if j < w then t.Values.[i * w + j] else data.Labels.[i]) }

    /// Reads and pairs the two files (`pair` with `minRows`).
    let readPair (minRows: int) (unlabelledPath: string) (labelledPath: string) : PredictionData =
        pair minRows (read unlabelledPath) (read labelledPath)

    /// A table from a row-major array (for data already in memory); `name` stands for the file in errors.
    /// Non-finite cells raise `InvalidCellException`.
    let ofArray (name: string) (columns: string[]) (values: float[]) : DataTable =
        checkHeader name columns
        if values.Length % columns.Length <> 0 then
            raise (DimensionMismatchException(name, sprintf "a multiple of %d values" columns.Length, sprintf "%d values" values.Length))
        values |> Array.iteri (fun i x ->
            if not (Double.IsFinite x) then
                raise (InvalidCellException(name, int64 (i / columns.Length) + 1L, 0L, columns.[i % columns.Length], x.ToString(CultureInfo.InvariantCulture), "is not finite")))
        { File = name; Columns = Array.copy columns; Rows = values.Length / columns.Length; Values = Array.copy values }

    /// Writes a table as CSV (header, invariant-culture round-trip numbers).
    let writeCsv (path: string) (t: DataTable) : unit =
        use w = new StreamWriter(path)
        w.WriteLine(String.Join(",", t.Columns))
        for i in 0 .. t.Rows - 1 do
            w.WriteLine(String.Join(",", Array.init t.Width (fun j -> t.Values.[i * t.Width + j].ToString("R", CultureInfo.InvariantCulture))))

    /// Writes a table as Parquet (one non-nullable double column per column, row groups of `rowGroupSize` rows).
    let writeParquet (rowGroupSize: int) (path: string) (t: DataTable) : unit =
        if rowGroupSize < 1 then Check.fail "rowGroupSize" (sprintf "must be >= 1, got %d" rowGroupSize)
        let fields = t.Columns |> Array.map (fun c -> Parquet.Schema.DataField<float>(c, Nullable false) :> Parquet.Schema.Field)
        let schema = Parquet.Schema.ParquetSchema(fields)
        use stream = File.Create path
        let writer = wait (Parquet.ParquetWriter.CreateAsync(schema, stream, null, false, CancellationToken.None))
        use _ = asyncDisposer writer
        let mutable start = 0
        while start < t.Rows do
            let rows = min rowGroupSize (t.Rows - start)
            use group = writer.CreateRowGroup()
            for j in 0 .. t.Width - 1 do
                let col = Array.init rows (fun i -> t.Values.[(start + i) * t.Width + j])
                group.WriteAsync<float>(fields.[j] :?> Parquet.Schema.DataField, ReadOnlyMemory<float>(col), Nullable(), null, CancellationToken.None).GetAwaiter().GetResult()
            group.CompleteValidate()
            start <- start + rows
