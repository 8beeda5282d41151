#!/usr/bin/env bash
# Start SeaweedFS (`weed mini`) on loopback as the test suite's S3 server, with signature
# checking on for one identity. Does nothing when the endpoint already answers.
#   S3_PORT                                      S3 port (default 8333)
#   PP_TEST_S3_ACCESS_KEY, PP_TEST_S3_SECRET_KEY the identity (default pp-test / pp-test-secret)
#   WEED                                         the binary (default .venv/bin/weed)
set -euo pipefail
cd "$(dirname "$0")/.."

port="${S3_PORT:-8333}"
url="http://127.0.0.1:${port}/"
dir="$PWD/.cache/seaweedfs"
weed="${WEED:-.venv/bin/weed}"

# Any HTTP status means the server answers; curl prints 000 when nothing listens.
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true; }

# An anonymous ListBuckets must be refused: without identities SeaweedFS lets anyone in.
require_auth() {
  local code
  code=$(status)
  if [[ "$code" != 403 ]]; then
    echo "S3 server on $url answers $code to an anonymous request, not 403: auth is off" >&2
    exit 1
  fi
  echo "S3 server answering on $url (anonymous request refused)"
}

if [[ "$(status)" != 000 ]]; then
  require_auth
  exit 0
fi

mkdir -p "$dir"
(umask 077 && cat >"$dir/s3.json") <<EOF
{
  "identities": [
    {
      "name": "pp-test",
      "credentials": [
        {
          "accessKey": "${PP_TEST_S3_ACCESS_KEY:-pp-test}",
          "secretKey": "${PP_TEST_S3_SECRET_KEY:-pp-test-secret}"
        }
      ],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
EOF

# Loopback only; no telemetry, WebDAV, admin UI, Iceberg or Lance endpoints.
setsid "$weed" mini \
  -dir="$dir" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
  -s3.port="$port" -s3.config="$dir/s3.json" \
  -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false -admin.ui=false \
  -master.telemetry=false \
  >>"$dir/weed.log" 2>&1 </dev/null &
echo $! >"$dir/weed.pid"

for _ in $(seq 60); do
  if [[ "$(status)" != 000 ]]; then
    require_auth
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null; then
    break
  fi
  sleep 0.5
done
echo "SeaweedFS did not answer on $url; last lines of $dir/weed.log:" >&2
tail -n 20 "$dir/weed.log" >&2
exit 1
