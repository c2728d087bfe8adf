package server

// The handler half of the reconciliation benchmark (make bench): the real
// server (New, every middleware, a signed-in finance user's session) on
// an httptest listener, on the national data at ×1 and ×10, for one month:
//
//	copy-psql    COPY (the engine's instance query, cut to the month's
//	             number of lines) TO STDOUT by psql: the baseline
//	copy-pgx     the same COPY through pgx in this process
//	csv, xlsx    GET /reconciliation/{month}.csv and .xlsx, the month
//	             already in billing's cache (as after the first request)
//	csv-cold,    the same just after a change to the ledger (the input
//	xlsx-cold    version bumped each time): the month is computed first
//	month        GET /reconciliation/{month}, cached; month-cold uncached
//	index        GET /reconciliation (the chart of twelve months), cached;
//	             index-cold uncached
//
// Each reports the time as a multiple of the two COPYs (x-copy-psql,
// x-copy-pgx), the bytes of the response (out-B/op) and the growth of the
// Go heap in use over the operation (heap-growth-MB: the peak, sampled
// every 2 ms, less what was in use before it started, after a
// collection). scripts/bench.sh builds the databases: BENCH_DATABASE_URL
// names the ×1 one, BENCH_DATABASE_URL_X10 the ×10 one (optional), and
// BENCH_MONTH (YYYY-MM) the month (by default the last whole one). The
// benchmark adds the demo users to the databases, to sign in.

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/billing"
	"ccgtracker/internal/config"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/testkit"
)

func BenchmarkReconciliation(b *testing.B) {
	url1 := os.Getenv("BENCH_DATABASE_URL")
	if url1 == "" {
		b.Skip("BENCH_DATABASE_URL is not set: run `make bench`, which builds the national data in a throwaway cluster")
	}
	first := time.Now().UTC()
	first = time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	if m := os.Getenv("BENCH_MONTH"); m != "" {
		t, err := time.Parse("2006-01", m)
		if err != nil {
			b.Fatalf("BENCH_MONTH %q: want YYYY-MM", m)
		}
		first = t
	}
	for _, sc := range []struct{ name, url string }{{"x1", url1}, {"x10", os.Getenv("BENCH_DATABASE_URL_X10")}} {
		if sc.url != "" {
			b.Run(sc.name, func(b *testing.B) { benchReconciliation(b, sc.url, first) })
		}
	}
}

func benchReconciliation(b *testing.B, dbURL string, first time.Time) {
	ctx := context.Background()
	if _, err := exec.LookPath("psql"); err != nil {
		b.Fatal("psql is not installed: the baseline is psql's COPY")
	}
	pool, err := postgres.Open(ctx, dbURL, postgres.PoolOptions{MaxConns: 16, AcquireTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	testkit.DemoUsers(b, pool)
	ts := httptest.NewUnstartedServer(nil)
	cfg, err := config.Load(func(k string) string {
		if k == "BASE_URL" {
			return "http://" + ts.Listener.Addr().String()
		}
		return ""
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := New(cfg, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts.Config.Handler = srv
	ts.Start()
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(b *testing.B, path string, out io.Writer) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.Copy(out, resp.Body); err != nil {
			b.Fatalf("GET %s: %v", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	form := url.Values{"email": {"finance@example.nhs.uk"}, "password": {auth.DemoPassword}}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in: %v %v", resp, err)
	}
	resp.Body.Close()

	m, err := srv.billing.Month(ctx, first)
	if err != nil {
		b.Fatal(err)
	}
	if m.Count == 0 {
		b.Fatalf("%s has no lines: seed the national data (tracker seed --national)", first.Format("2006-01"))
	}
	query := billing.CopyBaseline(first, m.Count)
	period := first.Format("2006-01")

	var psqlNs, pgxNs float64
	report := func(b *testing.B, out *counter) {
		op := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if psqlNs > 0 {
			b.ReportMetric(op/psqlNs, "x-copy-psql")
		}
		if pgxNs > 0 {
			b.ReportMetric(op/pgxNs, "x-copy-pgx")
		}
		b.ReportMetric(float64(m.Count), "lines")
		if out != nil {
			b.ReportMetric(float64(out.n)/float64(b.N), "out-B/op")
		}
	}
	b.Run("copy-psql", func(b *testing.B) {
		var out counter
		stop := heapGrowth(b)
		for b.Loop() {
			var errBuf bytes.Buffer
			cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dbURL, "-c", query)
			cmd.Stdout, cmd.Stderr = &out, &errBuf
			if err := cmd.Run(); err != nil {
				b.Fatalf("psql: %v: %s", err, errBuf.String())
			}
		}
		stop()
		psqlNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(m.Count), "rows")
		b.ReportMetric(float64(out.n)/float64(b.N), "out-B/op")
	})
	b.Run("copy-pgx", func(b *testing.B) {
		var out counter
		stop := heapGrowth(b)
		for b.Loop() {
			if err := copyTo(ctx, pool, &out, query); err != nil {
				b.Fatal(err)
			}
		}
		stop()
		pgxNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(m.Count), "rows")
		b.ReportMetric(float64(out.n)/float64(b.N), "out-B/op")
	})
	for _, c := range []struct {
		name, path string
		cold       bool
	}{
		{"csv", "/reconciliation/" + period + ".csv", false},
		{"xlsx", "/reconciliation/" + period + ".xlsx", false},
		{"month", "/reconciliation/" + period, false},
		{"index", "/reconciliation", false},
		{"csv-cold", "/reconciliation/" + period + ".csv", true},
		{"xlsx-cold", "/reconciliation/" + period + ".xlsx", true},
		{"month-cold", "/reconciliation/" + period, true},
		{"index-cold", "/reconciliation", true},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var out counter
			get(b, c.path, io.Discard) // warm: the month (or chart) in the cache
			stop := heapGrowth(b)
			for b.Loop() {
				if c.cold {
					// As after a change to the ledger: the cache misses.
					if _, err := pool.Exec(ctx, `UPDATE billing_inputs SET version = version + 1`); err != nil {
						b.Fatal(err)
					}
				}
				get(b, c.path, &out)
			}
			stop()
			report(b, &out)
		})
	}
}

func copyTo(ctx context.Context, pool *pgxpool.Pool, w io.Writer, query string) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	_, err = conn.Conn().PgConn().CopyTo(ctx, w, query)
	return err
}

// counter is an io.Writer that keeps only the count of bytes.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// heapGrowth samples the Go heap in use until the returned stop, which
// reports the largest less what was in use at the start as heap-growth-MB.
func heapGrowth(b *testing.B) (stop func()) {
	sample := testkit.SampleHeap()
	return func() {
		base, peak := sample()
		b.ReportMetric(float64(peak-base)/(1<<20), "heap-growth-MB")
	}
}
