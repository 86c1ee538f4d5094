# Installs Debian packages that are missing (needs root or sudo; CI runs as root).
# Usage: ensure_packages COMMAND:PACKAGE ...
ensure_packages() {
    local missing=() pair command package
    for pair in "$@"; do
        command=${pair%%:*}
        package=${pair#*:}
        if ! command -v "$command" >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/$command" >/dev/null; then
            missing+=("$package")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]} from Debian's packages" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
