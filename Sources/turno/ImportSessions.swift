import ArgumentParser
import Crypto
import Foundation
import SQLKit
import Sessions
import TurnoCore
import TurnoServer

/// `turno import …`: bring records from files into the database.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import records from files into the database.",
        subcommands: [ImportSessions.self]
    )
}

/// `turno import sessions FILE.csv --organization ID`: stores the valid sessions of a CSV file in the export's format
/// (`GET /api/v1/sessions.csv`), reports every invalid record by its line, and adds nothing on a second run.
struct ImportSessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "Import exercise sessions from CSV (the format of GET /api/v1/sessions.csv); importing a file again adds nothing.",
        discussion: """
            The first row names the columns; columns other than the export's are ignored. user_id, sport, started_at and \
            duration_s are required. A record is known again by its external_id; without one, by `csv:<id>` from its id \
            column; without either, by `import:<SHA-256 of the session's normalized fields>`, so an identical record \
            (even spelled differently, e.g. 5000.0 for 5000) is imported once. Exits with status 1 when any record was rejected.
            """
    )

    @Argument(help: "The CSV file.")
    var file: String
    @Option(help: "The organization (tenant) the sessions belong to.")
    var organization: Int64
    @Option(help: "Sessions stored per transaction.")
    var batch = 1_000
    @OptionGroup var options: ServerOptions

    static let requiredColumns = ["user_id", "sport", "started_at", "duration_s"]

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() async throws {
        var counts = Counts()
        try await reportingFailures {
            counts = try await importFile()
        }
        var summary = "imported \(counts.imported), already there \(counts.existing), rejected \(counts.rejected)"
        if counts.rejected > 0 { summary += " (see above)" }
        print(summary)
        if counts.rejected > 0 { throw ExitCode.failure }
    }

    /// What became of the file's records.
    struct Counts {
        var imported = 0
        var existing = 0
        var rejected = 0
    }

    func importFile() async throws -> Counts {
        var reader = try CSVPieceReader(path: file)
        guard let first = try reader.next() else { throw Failure("\(file) is empty; it needs a header row naming the columns") }
        var records = SessionCSV.records(first.text)[...]
        let header = try Self.columns(records.popFirst()?.fields ?? [])

        let (settings, logger) = try options.prepare()
        let platform = try await Platform.open(settings: settings, modules: turnoModules, logger: logger)
        do {
            let counts = try await importRecords(first, records, then: &reader, header: header, storage: platform.storage)
            await platform.close()
            return counts
        } catch {
            await platform.close()
            throw error
        }
    }

    /// The header's column names; a clear failure when a required one is missing or a name is repeated.
    static func columns(_ header: [String]) throws -> [String] {
        // Spreadsheets save a byte-order mark before the first name and sometimes pad names.
        let names = header.enumerated().map { index, name in
            (index == 0 && name.hasPrefix("\u{FEFF}") ? String(name.dropFirst()) : name).trimmingCharacters(in: .whitespaces)
        }
        let missing = requiredColumns.filter { !names.contains($0) }
        guard missing.isEmpty else {
            throw Failure(
                "the header row has no column \(missing.joined(separator: ", ")); it needs \(requiredColumns.joined(separator: ", ")) and may have \(SessionCSV.header.joined(separator: ", "))"
            )
        }
        let repeated = Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 && !$0.key.isEmpty }.keys.sorted()
        guard repeated.isEmpty else { throw Failure("the header row names \(repeated.joined(separator: ", ")) more than once") }
        return names
    }

    /// Stores the records of `firstPiece` after its header, then those of the pieces still to read.
    private func importRecords(
        _ firstPiece: CSVPieceReader.Piece,
        _ firstRecords: ArraySlice<(line: Int, fields: [String])>,
        then reader: inout CSVPieceReader,
        header: [String],
        storage: Storage
    ) async throws -> Counts {
        let exists = try await storage.read { sql in
            try await sql.raw("SELECT id FROM organizations WHERE id = \(bind: organization)").first() != nil
        }
        guard exists else { throw Failure("there is no organization \(organization); `turno organization create` makes one") }

        let commands = SessionCommands(store: SessionStore(storage: storage), storage: storage)
        let progress = ProgressLine(label: "import", total: reader.size)
        let nowMs = SystemClock().nowMilliseconds()
        var counts = Counts()
        var read = 0
        var pending: [ExerciseSession] = []
        pending.reserveCapacity(batch)

        func save(_ sessions: [ExerciseSession]) async throws {
            for outcome in try await commands.record(sessions, organizationID: organization) {
                switch outcome {
                case .created: counts.imported += 1
                case .existing: counts.existing += 1
                }
            }
        }

        var piece = firstPiece
        var records = firstRecords
        while true {
            for (done, (line, fields)) in records.enumerated() {
                read += 1
                do {
                    pending.append(try Self.session(fields, header: header, nowMs: nowMs))
                } catch {
                    counts.rejected += 1
                    progress.note("line \(piece.firstLine - 1 + line): \(error.detail)")
                }
                if pending.count >= batch {
                    try await save(pending)
                    pending.removeAll(keepingCapacity: true)
                }
                // Bytes done, taking the piece's records as equally long.
                progress.update(piece.offset + piece.bytes * (done + 1) / records.count, detail: "\(read) records")
            }
            guard let next = try reader.next() else { break }
            piece = next
            records = SessionCSV.records(piece.text)[...]
        }
        try await save(pending)
        progress.finish()
        return counts
    }

    /// One record as a valid session to store, or the rule it breaks.
    static func session(_ fields: [String], header: [String], nowMs: Int64) throws(SessionRuleViolation) -> ExerciseSession {
        guard fields.count == header.count else {
            throw .invalid("the record", "has \(fields.count) fields, the header \(header.count) (a stray comma or quote?)")
        }
        var session = try SessionCSV.sessionFields(Dictionary(zip(header, fields), uniquingKeysWith: { first, _ in first })).validated(nowMs: nowMs)
        if session.externalID == nil { session.externalID = importID(of: session) }
        return session
    }

    /// `import:` and the SHA-256 of the session's fields as the export writes them (without the id the database
    /// gives it), so that the same session spelled differently (5000.0 for 5000, +01:00 for Z) is the same record.
    static func importID(of session: ExerciseSession) -> String {
        let normalized = SessionCSV.fields(of: session).dropFirst().joined(separator: "\u{1F}")
        return "import:" + SHA256.hash(data: Data(normalized.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Reads a CSV file a piece at a time, each piece ending at a record boundary, so that a large file is never held
/// whole: a line break ends a record only outside quotes, and (RFC 4180 doubling quotes inside quoted fields) it is
/// outside exactly when the quotes before it are even in number. A file whose line breaks are bare carriage returns
/// has no such boundary and is read as one piece.
struct CSVPieceReader {
    /// Whole records of the file, from byte `offset` on, the first of them on line `firstLine`.
    struct Piece {
        var text: String
        var firstLine: Int
        var offset: Int
        var bytes: Int
    }

    /// The file's size in bytes.
    let size: Int
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    /// Where scanning of `buffer` for a boundary resumes, and whether that point is inside quotes.
    private var scanned = 0
    private var insideQuotes = false
    /// Where the next piece starts.
    private var nextLine = 1
    private var nextOffset = 0

    /// About this much text, and its records, is in memory at a time however large the file is.
    static let pieceBytes = 4 << 20

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure("cannot read \(path)") }
        self.handle = handle
        size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
    }

    /// The next whole records; nil at the end of the file.
    mutating func next() throws -> Piece? {
        while true {
            let more = try handle.read(upToCount: Self.pieceBytes) ?? Data()
            buffer.append(contentsOf: more)
            var boundary: Int?
            for index in scanned..<buffer.count {
                switch buffer[index] {
                case UInt8(ascii: "\""): insideQuotes.toggle()
                case UInt8(ascii: "\n") where !insideQuotes: boundary = index
                default: break
                }
            }
            scanned = buffer.count
            if more.isEmpty { boundary = buffer.count - 1 }
            guard let boundary, boundary >= 0 else {
                if more.isEmpty { return nil }
                continue
            }
            let bytes = buffer[...boundary]
            let piece = Piece(text: String(decoding: bytes, as: UTF8.self), firstLine: nextLine, offset: nextOffset, bytes: bytes.count)
            nextLine += bytes.count(where: { $0 == UInt8(ascii: "\n") })
            nextOffset += bytes.count
            // The rest starts at a boundary, outside quotes, so `insideQuotes` still describes `scanned`.
            buffer.removeFirst(boundary + 1)
            scanned = buffer.count
            return piece
        }
    }
}
