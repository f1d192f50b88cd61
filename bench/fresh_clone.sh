#!/bin/bash
# `make run` from a fresh clone to an accepted login, the way a new user starts (issue 17's 3-minute target).
#   bench/fresh_clone.sh [REPO]   (default: this checkout; the clone goes to a new folder under /tmp)
# Prints the seconds from the start of `make run` until the administrator's password is accepted on port 8000
# (nothing else may listen there). Includes the virtualenv and pip install: run it on a machine whose pip cache
# is as the user would have it.
set -u
REPO=${1:-$(cd "$(dirname "$0")/.." && pwd)}
D=$(mktemp -d /tmp/resonanz-fresh-XXXX)
git clone -q "$REPO" "$D" && cd "$D" || exit 1
export RESONANZ_ADMIN_EMAIL=admin@example.com RESONANZ_ADMIN_PASSWORD=bench-first-start-1
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
T0=$(date +%s.%N)
setsid make run > "$D/run.log" 2>&1 &
PID=$!
python3 - <<'PY'
import http.cookiejar, re, sys, time, urllib.error, urllib.parse, urllib.request

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

url = "http://127.0.0.1:8000/accounts/login/"
start = time.time()
while time.time() - start < 900:
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', opener.open(url, timeout=5).read().decode())[1]
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "admin@example.com",
                                       "password": "bench-first-start-1"}).encode()
        try:
            opener.open(urllib.request.Request(url, data=form, headers={"Referer": url}), timeout=10)
        except urllib.error.HTTPError as answer:
            if answer.code == 302 and "login" not in (answer.headers.get("Location") or ""):
                sys.exit(0)
        sys.exit("the login was refused")
    except (urllib.error.URLError, OSError):
        time.sleep(0.5)
sys.exit("no login page after 15 minutes")
PY
OK=$?
T1=$(date +%s.%N)
echo "fresh clone make run to login: $(python3 -c "print(round($T1 - $T0, 1))") s (exit $OK)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E "built seed" "$D/run.log"
kill -- -$PID 2>/dev/null; sleep 2; kill -9 -- -$PID 2>/dev/null
rm -rf "$D"
exit $OK
