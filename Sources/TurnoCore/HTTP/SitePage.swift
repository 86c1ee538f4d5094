import HTTPTypes
import Hummingbird
import NIOCore

/// The few pages the platform itself serves — the home page, the sign-in form, "not found" for a browser — in the
/// pages' shared style (`/assets/turno.css`) and in English or Italian, whichever the browser prefers.
public enum SitePage {
    /// The words of these pages, by language.
    static let strings: [String: [String: String]] = [
        "en": [
            "home": "Home", "sign_in": "Sign in", "sign_out": "Sign out", "username": "Username", "password": "Password",
            "sign_in_title": "Sign in to Turno", "sign_in_intro": "Staff sign in here: operators, receptionists, managers and administrators.",
            "wrong": "The username or password is wrong.", "locked": "Too many failed sign-ins for this username. Try again in a few minutes.",
            "expired": "The sign-in form expired. Please try again.",
            "not_found_title": "Page not found", "not_found": "There is no page at this address. It may have been mistyped, or the link is old.",
            "tagline": "Queues, deliveries and sessions in real time.",
            "about":
                "Customers take a ticket at a kiosk or on their phone and follow their turn live; operators call them to a counter; displays show and announce every call. Drones deliver parcels on a live map; an API records exercise sessions.",
            "signed_in_as": "Signed in as {name}", "pages": "Pages", "branches": "Your branches", "no_branches": "No branch yet: create one in Administration.",
            "kiosk": "Kiosk", "display": "Display", "console": "Operator console", "qr_help": "Scan to open it on the device that will show it.",
            "qr_of": "QR code of the {page} link", "admin": "Administration", "fleet": "Fleet dispatch", "docs": "API documentation",
        ],
        "it": [
            "home": "Home", "sign_in": "Accedi", "sign_out": "Esci", "username": "Nome utente", "password": "Password",
            "sign_in_title": "Accedi a Turno", "sign_in_intro": "Accesso per il personale: operatori, receptionist, responsabili e amministratori.",
            "wrong": "Nome utente o password errati.", "locked": "Troppi accessi falliti per questo nome utente. Riprova fra qualche minuto.",
            "expired": "Il modulo di accesso è scaduto. Riprova.",
            "not_found_title": "Pagina non trovata",
            "not_found": "Non c'è nessuna pagina a questo indirizzo. Forse è stato digitato male, o il link è vecchio.",
            "tagline": "Code, consegne e sessioni in tempo reale.",
            "about":
                "I clienti prendono il biglietto al totem o sul telefono e seguono il proprio turno in diretta; gli operatori li chiamano allo sportello; i display mostrano e annunciano ogni chiamata. I droni consegnano i pacchi su una mappa in diretta; un'API registra le sessioni di allenamento.",
            "signed_in_as": "Accesso come {name}", "pages": "Pagine", "branches": "Le tue filiali",
            "no_branches": "Ancora nessuna filiale: creane una in Amministrazione.",
            "kiosk": "Totem", "display": "Display", "console": "Console operatore",
            "qr_help": "Inquadra il codice per aprirlo sul dispositivo che lo mostrerà.", "qr_of": "Codice QR del link {page}", "admin": "Amministrazione",
            "fleet": "Gestione flotta", "docs": "Documentazione API",
        ],
    ]

    /// The word for `key` in `language` (English when the language has none).
    public static func text(_ key: String, _ language: String) -> String {
        strings[language]?[key] ?? strings["en"]?[key] ?? key
    }

    /// The language of these pages for a browser's `Accept-Language`.
    public static func language(acceptLanguage: String?) -> String {
        PageRenderer.language(acceptLanguage: acceptLanguage)
    }

    /// Escapes text for HTML content and attribute values.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A whole page: the shared header (the name links home) and `main`.
    /// `navigation`, for a signed-in user, replaces the plain header with the staff bar.
    public static func html(title: String, language: String, main: String, navigation: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let page = """
            <!doctype html>
            <html lang="\(language)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Turno</title>
            <link rel="icon" href="/assets/icon.svg" type="image/svg+xml"><link rel="stylesheet" href="/assets/turno.css"></head>
            <body class="page-site">\(navigation ?? #"<header class="page-header"><a class="app-name" href="/">Turno</a></header>"#)
            <main class="site">
            \(main)
            </main></body></html>
            """
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: page))
        )
    }

    /// "Not found", for a browser that asked for a page.
    public static func notFound(language: String) -> Response {
        html(
            title: text("not_found_title", language),
            language: language,
            main: """
                <section class="card error-page"><h1>\(text("not_found_title", language))</h1><p>\(text("not_found", language))</p>
                <p><a class="button primary" href="/">\(text("home", language))</a></p></section>
                """,
            status: .notFound
        )
    }
}

extension Request {
    /// Where people reach this server, for links to open on another device (QR codes): behind a proxy, the
    /// forwarded scheme and host.
    public var publicOrigin: String {
        let https = uri.scheme == .https || headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
        let host = headers[HTTPField.Name("X-Forwarded-Host")!] ?? head.authority ?? "localhost"
        return "\(https ? "https" : "http")://\(host)"
    }
}
