import Testing
import TurnoCore

/// The client behind trusted proxies, and language tags: pure rules, tested exhaustively on small cases.
@Suite("Address ranges and language tags")
struct AddressRangesTests {
    @Test("ranges parse and match IPv4, IPv6 and IPv4-mapped addresses")
    func ranges() throws {
        let ranges = try AddressRanges(parsing: "127.0.0.1, 10.0.0.0/8, 2001:db8::/32")
        #expect(ranges.contains("127.0.0.1") && !ranges.contains("127.0.0.2"))
        #expect(ranges.contains("10.255.1.2") && !ranges.contains("11.0.0.1"))
        #expect(ranges.contains("2001:db8:1::5") && !ranges.contains("2001:db9::1"))
        #expect(ranges.contains("::ffff:10.1.2.3"))
        #expect(!ranges.contains("not an address"))
        #expect(AddressRanges.loopback.contains("127.9.9.9") && AddressRanges.loopback.contains("::1") && !AddressRanges.loopback.contains("192.0.2.1"))
        for bad in ["10.0.0.0/33", "nonsense", "1.2.3.4/x", "::1/129"] {
            #expect(throws: SettingsError.self, "\(bad)") { try AddressRanges(parsing: bad) }
        }
    }

    @Test("the client is the rightmost address that is not a trusted proxy")
    func clientAddress() throws {
        let proxies = try AddressRanges(parsing: "127.0.0.1, 10.0.0.0/8")
        // Not through a trusted proxy: the header is the client's own words and is ignored.
        #expect(proxies.clientAddress(peer: "198.51.100.7", forwardedFor: "1.2.3.4") == "198.51.100.7")
        // A forged first entry is skipped: nginx appended the real address last.
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: "1.2.3.4, 198.51.100.7") == "198.51.100.7")
        // Two proxies in a row.
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: "1.2.3.4, 198.51.100.7, 10.1.1.1") == "198.51.100.7")
        // Garbage left of the proxies: the last hop that passed it on.
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: "<script>, 10.1.1.1") == "10.1.1.1")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: nil) == "127.0.0.1")
        #expect(AddressRanges.none.clientAddress(peer: "127.0.0.1", forwardedFor: "1.2.3.4") == "127.0.0.1")
    }

    @Test("language tags are checked, put in their usual case and matched to the closest language")
    func languageTags() {
        #expect(LanguageTag.wellFormed("it-it") == "it-IT")
        #expect(LanguageTag.wellFormed("EN-gb") == "en-GB")
        #expect(LanguageTag.wellFormed("zh-hant-tw") == "zh-Hant-TW")
        #expect(LanguageTag.wellFormed("es-419") == "es-419")
        #expect(LanguageTag.wellFormed("de-CH-x-Phonebk") == "de-CH-x-phonebk")
        for bad in ["", "e", "en_GB", "en-", "-en", "en--GB", "en-toolongsubtag", "1a", String(repeating: "a-", count: 20) + "a"] {
            #expect(LanguageTag.wellFormed(bad) == nil, "\(bad)")
        }
        #expect(LanguageTag.closest(to: "it-IT", among: ["en", "it"]) == "it")
        #expect(LanguageTag.closest(to: "fr", among: ["en", "it"]) == nil)
    }
}
