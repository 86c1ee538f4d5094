import Foundation

/// A PDF 1.7 file of A4 (or other) pages drawn with Helvetica and Helvetica-Bold: enough for printable reports without
/// a PDF library.
///
/// The fonts are two of the standard 14, which every reader has, so nothing is embedded; text is WinAnsi (Windows-1252),
/// which covers English and Italian. Content streams are not compressed (there is no zlib to rely on); reports stay small.
/// The output is deterministic: the same pages, title and date give the same bytes, with no hidden clock or random ID.
public struct PDFDocument: Sendable {
    public let title: String
    public let author: String
    /// The document's natural language (a BCP 47 tag such as "it"), for screen readers and text-to-speech.
    public let language: String
    /// Written to the document information when given; there is no default so that tests and reruns give equal files.
    public let creationDate: Date?
    public private(set) var pages: [PDFPage] = []

    public init(title: String, author: String = "Turno", language: String = "en", creationDate: Date? = nil) {
        self.title = title
        self.author = author
        self.language = language
        self.creationDate = creationDate
    }

    public mutating func addPage(_ page: PDFPage) {
        pages.append(page)
    }

    /// The whole file. A document without pages gets one blank A4 page, since most readers refuse a file with none.
    public func rendered() -> [UInt8] {
        let pages = pages.isEmpty ? [PDFPage()] : pages
        let fonts = PDFFont.allCases
        let (catalog, pageTree, info, resources) = (1, 2, 3, 4)
        let firstFont = 5
        // Each page takes two objects: the page, then its content stream.
        let pageObjects = pages.indices.map { firstFont + fonts.count + 2 * $0 }

        var file = PDFFile()
        // DisplayDocTitle: viewers show the title instead of the file name.
        let catalogEnd = " /ViewerPreferences << /DisplayDocTitle true >> >>"
        file.object(
            catalog,
            Array("<< /Type /Catalog /Pages \(pageTree) 0 R /Lang ".utf8) + PDFSyntax.literal(WinAnsi.encode(language)) + Array(catalogEnd.utf8)
        )
        let kids = pageObjects.map { "\($0) 0 R" }.joined(separator: " ")
        file.object(pageTree, "<< /Type /Pages /Kids [\(kids)] /Count \(pages.count) >>")
        var information = "<< /Title \(PDFSyntax.textString(title)) /Author \(PDFSyntax.textString(author)) /Producer \(PDFSyntax.textString("Turno"))"
        if let creationDate {
            information += " /CreationDate \(PDFSyntax.date(creationDate))"
        }
        file.object(info, information + " >>")
        // One font dictionary per font for the whole document, shared by every page through one resource dictionary.
        let fontEntries = fonts.enumerated().map { index, font in "/\(font.resourceName) \(firstFont + index) 0 R" }.joined(separator: " ")
        file.object(resources, "<< /Font << \(fontEntries) >> >>")
        for (index, font) in fonts.enumerated() {
            file.object(firstFont + index, "<< /Type /Font /Subtype /Type1 /BaseFont /\(font.baseFont) /Encoding /WinAnsiEncoding >>")
        }
        for (page, number) in zip(pages, pageObjects) {
            let mediaBox = "[0 0 \(PDFSyntax.number(page.width)) \(PDFSyntax.number(page.height))]"
            file.object(
                number,
                "<< /Type /Page /Parent \(pageTree) 0 R /MediaBox \(mediaBox) /Resources \(resources) 0 R /Contents \(number + 1) 0 R >>"
            )
            file.object(number + 1, Array("<< /Length \(page.content.count) >>\nstream\n".utf8) + page.content + Array("\nendstream".utf8))
        }
        return file.finished(root: catalog, info: info)
    }
}

/// Writes numbered objects one after the other, noting where each starts for the cross-reference table.
private struct PDFFile {
    /// The header, then a comment of bytes above 127 so that transfer tools treat the file as binary.
    private var bytes: [UInt8] = Array("%PDF-1.7\n%".utf8) + [0xE2, 0xE3, 0xCF, 0xD3, 0x0A]
    private var offsets: [Int] = []

    /// Appends object `number`. Objects must come in order, 1, 2, 3…, which keeps the cross-reference table one section.
    mutating func object(_ number: Int, _ body: [UInt8]) {
        precondition(number == offsets.count + 1, "PDF objects must be written in order")
        offsets.append(bytes.count)
        bytes += Array("\(number) 0 obj\n".utf8) + body + Array("\nendobj\n".utf8)
    }

    mutating func object(_ number: Int, _ body: String) {
        object(number, Array(body.utf8))
    }

    /// The file so far, closed with the cross-reference table and the trailer.
    func finished(root: Int, info: Int) -> [UInt8] {
        var output = bytes
        let table = output.count
        // Every entry is exactly 20 bytes: 10 digits of offset, 5 of generation, the type, and a two-byte end of line.
        var xref = "xref\n0 \(offsets.count + 1)\n0000000000 65535 f \n"
        for offset in offsets {
            let digits = String(offset)
            xref += String(repeating: "0", count: max(0, 10 - digits.count)) + digits + " 00000 n \n"
        }
        xref += "trailer\n<< /Size \(offsets.count + 1) /Root \(root) 0 R /Info \(info) 0 R >>\nstartxref\n\(table)\n%%EOF\n"
        output += Array(xref.utf8)
        return output
    }
}
