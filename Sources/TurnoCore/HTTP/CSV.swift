import Hummingbird
import NIOCore

/// CSV as spreadsheets read it (RFC 4180): a field with a comma, quote or line break is quoted, quotes doubled.
/// A field that starts with `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet never runs it as a formula.
public enum CSV {
    public static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        // Scalars, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension CSV {
    /// A CSV download read and written one page at a time, so an export never sits whole in memory: the header,
    /// then the rows of `first` and of each page `next` says follows it, until it says none does.
    public static func streamedResponse<Page: Sendable>(
        filename: String,
        header: [String],
        first: Page,
        next: @escaping @Sendable (Page) async throws -> (rows: [[String]], following: Page?)
    ) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""],
            body: .init { writer in
                try await writer.write(ByteBuffer(string: row(header)))
                var page: Page? = first
                while let current = page {
                    let (rows, following) = try await next(current)
                    if !rows.isEmpty { try await writer.write(ByteBuffer(string: rows.map(row).joined())) }
                    page = following
                }
                try await writer.finish(nil)
            }
        )
    }
}
