package billing

// The engine half of the reconciliation benchmark (make bench): for one
// month of the national data, at ×1 and at a ×10 synthetic copy, side by
// side in the same run,
//
//	copy-psql  COPY (the engine's instance query) TO STDOUT by psql: the baseline
//	copy-pgx   the same COPY through pgx's CopyTo, in this process
//	compute    the month's sums computed afresh (Sums: every line through Each)
//
// with, per operation, the rows (COPY: as many as the month has lines,
// of the rows-scanned instances the query selects) or lines (the engine),
// the time as a multiple of the psql and pgx COPY times measured just
// before, and the peak Go heap in use (HeapInuse sampled every 2 ms). The
// exports and pages are measured through the server's real handlers in
// internal/server (BenchmarkReconciliation). scripts/bench.sh builds the
// databases; BENCH_DATABASE_URL names the ×1 one and
// BENCH_DATABASE_URL_X10 the ×10 one (optional). BENCH_MONTH (YYYY-MM)
// picks the month; by default the last whole month, the busiest of the
// national data's year.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/testkit"
)

func BenchmarkMonth(b *testing.B) {
	url1 := os.Getenv("BENCH_DATABASE_URL")
	if url1 == "" {
		b.Skip("BENCH_DATABASE_URL is not set: run `make bench`, which builds the national data in a throwaway cluster")
	}
	first := benchMonth(b)
	scales := []struct{ name, url string }{{"x1", url1}, {"x10", os.Getenv("BENCH_DATABASE_URL_X10")}}
	for _, s := range scales {
		if s.url == "" {
			continue
		}
		b.Run(s.name, func(b *testing.B) { benchScale(b, s.url, first) })
	}
}

func benchMonth(b *testing.B) time.Time {
	if m := os.Getenv("BENCH_MONTH"); m != "" {
		t, err := time.Parse("2006-01", m)
		if err != nil {
			b.Fatalf("BENCH_MONTH %q: want YYYY-MM", m)
		}
		return t
	}
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
}

func benchScale(b *testing.B, url string, first time.Time) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if _, err := exec.LookPath("psql"); err != nil {
		b.Fatal("psql is not installed: the baseline is psql's COPY")
	}

	// The month's size, once.
	var lines int
	if err := Each(ctx, pool, first, Filter{}, func(Line) error { lines++; return nil }); err != nil {
		b.Fatal(err)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM service_instances si
		WHERE si.actual_m1 <= $2 AND (si.cessation_date IS NULL OR si.cessation_date > $1 OR si.time_unit IS NULL OR si.m2 BETWEEN $1 AND $2)`,
		first, first.AddDate(0, 1, -1)).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	if lines == 0 {
		b.Fatalf("%s has no lines: seed the national data (tracker seed --national)", first.Format("2006-01"))
	}
	query := CopyBaseline(first, lines)

	// ns/op of the two COPYs, for the ratios of the runs after them.
	var psqlNs, pgxNs float64
	ratios := func(b *testing.B) {
		op := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if psqlNs > 0 {
			b.ReportMetric(op/psqlNs, "x-copy-psql")
		}
		if pgxNs > 0 {
			b.ReportMetric(op/pgxNs, "x-copy-pgx")
		}
	}

	b.Run("copy-psql", func(b *testing.B) {
		var out counter
		stop := samplePeak(b)
		for b.Loop() {
			var errBuf bytes.Buffer
			cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", query)
			cmd.Stdout, cmd.Stderr = &out, &errBuf
			if err := cmd.Run(); err != nil {
				b.Fatalf("psql: %v: %s", err, errBuf.String())
			}
		}
		stop()
		psqlNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(min(rows, lines)), "rows")
		b.ReportMetric(float64(rows), "rows-scanned")
		b.ReportMetric(float64(out.n)/float64(b.N), "out-B/op")
	})
	b.Run("copy-pgx", func(b *testing.B) {
		var out counter
		stop := samplePeak(b)
		for b.Loop() {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			_, err = conn.Conn().PgConn().CopyTo(ctx, &out, query)
			conn.Release()
			if err != nil {
				b.Fatal(err)
			}
		}
		stop()
		pgxNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(min(rows, lines)), "rows")
		b.ReportMetric(float64(rows), "rows-scanned")
		b.ReportMetric(float64(out.n)/float64(b.N), "out-B/op")
	})
	b.Run("compute", func(b *testing.B) {
		b.ReportAllocs()
		stop := samplePeak(b)
		for b.Loop() {
			if _, _, _, err := Sums(ctx, pool, first, Filter{}); err != nil {
				b.Fatal(err)
			}
		}
		stop()
		b.ReportMetric(float64(lines), "lines")
		ratios(b)
	})
}

// counter is an io.Writer that keeps only the count of bytes.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// samplePeak samples the Go heap in use until the returned stop, which
// reports the largest as peak-heap-MB.
func samplePeak(b *testing.B) (stop func()) {
	sample := testkit.SampleHeap()
	return func() {
		_, peak := sample()
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	}
}
