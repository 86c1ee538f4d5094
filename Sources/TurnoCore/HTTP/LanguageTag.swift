/// BCP 47 language tags (RFC 5646), as branches name their language: `it`, `it-IT`, `en-GB`, `zh-Hant-TW`.
public enum LanguageTag {
    /// The tag in its conventional case (`en-GB`, `zh-Hant-TW`), or nil when it is not a well-formed tag: a primary
    /// language of 2 to 8 letters, then subtags of 1 to 8 letters or digits, joined by `-`, 35 characters at most.
    public static func wellFormed(_ text: String) -> String? {
        let subtags = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count <= 35, let primary = subtags.first, (2...8).contains(primary.count),
            primary.allSatisfy({ $0.isASCII && $0.isLetter }),
            subtags.dropFirst().allSatisfy({ (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        else { return nil }
        var canonical = [primary.lowercased()]
        var afterSingleton = false
        for subtag in subtags.dropFirst() {
            // Extensions and private use (`-u-…`, `-x-…`) keep lower case; a script is Title case, a region upper case.
            if subtag.count == 1 { afterSingleton = true }
            if afterSingleton {
                canonical.append(subtag.lowercased())
            } else if subtag.count == 4, subtag.allSatisfy(\.isLetter) {
                canonical.append(subtag.prefix(1).uppercased() + subtag.dropFirst().lowercased())
            } else if subtag.count == 2 {
                canonical.append(subtag.uppercased())
            } else {
                canonical.append(subtag.lowercased())
            }
        }
        return canonical.joined(separator: "-")
    }

    /// The language among `available` closest to `tag`: the one with the same primary language, else nil.
    public static func closest(to tag: String, among available: [String]) -> String? {
        let primary = tag.split(separator: "-").first.map { $0.lowercased() } ?? ""
        return available.first { $0 == primary }
    }
}
