package billing

// The reconciliation benchmark of issue 7 (make bench): for one month of
// the national data, at ×1 and at a ×10 synthetic copy, side by side in
// the same run,
//
//	copy-psql  COPY (the engine's instance query) TO STDOUT by psql: the baseline
//	copy-pgx   the same COPY through pgx's CopyTo, in this process
//	compute    the month's sums (Sums: every line through Each)
//	csv        the month's lines as CSV (Each → export.CSV)
//	xlsx       the month's lines as XLSX (Each → excelize StreamWriter)
//
// with, per operation, the rows (COPY: as many as the month has lines,
// of the rows-scanned instances the query selects) or lines (the engine), the time as
// a multiple of the psql and pgx COPY times measured just before, and
// the peak Go heap in use (HeapInuse sampled every 2 ms). scripts/bench.sh
// builds the databases; BENCH_DATABASE_URL names the ×1 one and
// BENCH_DATABASE_URL_X10 the ×10 one (optional). BENCH_MONTH (YYYY-MM)
// picks the month; by default the last whole month, the busiest of the
// national data's year.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xuri/excelize/v2"

	"ccgtracker/internal/export"
	"ccgtracker/internal/money"
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

// copySQL is the engine's query for an open month, as Each's computed
// runs it, with the dates written in, cut to the month's number of lines:
// the engine reads a few more instances than it emits lines (a one-off
// or ceased service it charges nothing), so the COPY runs the same scan
// and sort and writes the same number of rows as the exports.
func copySQL(first time.Time, lines int) string {
	last := first.AddDate(0, 1, -1)
	return fmt.Sprintf(`COPY (%s
		WHERE si.actual_m1 <= '%s' AND (si.cessation_date IS NULL OR si.cessation_date > '%s' OR si.time_unit IS NULL OR si.m2 BETWEEN '%s' AND '%s')
		ORDER BY si.supplier_id, si.ccg_code, si.practice_code, si.id LIMIT %d) TO STDOUT (FORMAT csv, HEADER)`,
		instanceQuery, last.Format(time.DateOnly), first.Format(time.DateOnly), first.Format(time.DateOnly), last.Format(time.DateOnly), lines)
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
	query := copySQL(first, lines)

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
	b.Run("csv", func(b *testing.B) {
		b.ReportAllocs()
		var out counter
		stop := samplePeak(b)
		for b.Loop() {
			if err := writeCSV(ctx, pool, first, &out); err != nil {
				b.Fatal(err)
			}
		}
		stop()
		b.ReportMetric(float64(lines), "lines")
		b.ReportMetric(float64(out.n)/float64(b.N), "out-B/op")
		ratios(b)
	})
	b.Run("xlsx", func(b *testing.B) {
		b.ReportAllocs()
		var out counter
		stop := samplePeak(b)
		for b.Loop() {
			if err := writeXLSX(ctx, pool, first, &out); err != nil {
				b.Fatal(err)
			}
		}
		stop()
		b.ReportMetric(float64(lines), "lines")
		b.ReportMetric(float64(out.n)/float64(b.N), "out-B/op")
		ratios(b)
	})
}

// counter is an io.Writer that keeps only the count of bytes.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// samplePeak samples the Go heap in use every 2 ms, from after a
// collection, until the returned stop, which reports the largest as
// peak-heap-MB.
func samplePeak(b *testing.B) (stop func()) {
	runtime.GC()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	}
}

// benchColumns are a finance export's columns: everything a line shows.
var benchColumns = []string{
	"Period", "Line", "Corrects", "Service ID", "Source", "CCG code", "CCG", "Practice ODS code", "Practice",
	"Supplier ID", "Supplier", "Catalogue item ID", "Catalogue item", "Type", "Unit", "Per", "Quantity",
	"Unit price", "Days charged", "Days in month", "Amount", "State", "Actual M1", "M2", "Cessation",
}

func day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

func state(l Line) string {
	if l.Payable {
		return "payable"
	}
	return "held"
}

func writeCSV(ctx context.Context, pool *pgxpool.Pool, first time.Time, w *counter) error {
	c := export.NewCSV(w)
	if err := c.Text(benchColumns...); err != nil {
		return err
	}
	err := Each(ctx, pool, first, Filter{}, func(l Line) error {
		return c.Row(export.Str(l.Period.Format("2006-01")), export.Str(l.Kind), export.Str(day(l.Corrects)),
			export.Str(l.InstanceRef), export.Str(l.Source), export.Str(l.CCGCode), export.Str(l.CCGName),
			export.Str(l.PracticeCode), export.Str(l.PracticeName), export.Str(l.SupplierID), export.Str(l.SupplierName),
			export.Str(l.ProductID), export.Str(l.ProductName), export.Str(l.ProductType), export.Str(l.Unit), export.Str(l.TimeUnit),
			export.Num(strconv.Itoa(l.Quantity)), export.Num(l.Price.Decimal()), export.Num(strconv.Itoa(l.DaysCharged)),
			export.Num(strconv.Itoa(l.DaysInMonth)), export.Num(l.Amount.Decimal()), export.Str(state(l)),
			export.Str(day(l.ActualM1)), export.Str(day(l.M2)), export.Str(day(l.Cessation)))
	})
	if err != nil {
		return err
	}
	return c.Flush()
}

func writeXLSX(ctx context.Context, pool *pgxpool.Pool, first time.Time, w *counter) error {
	f := excelize.NewFile()
	defer f.Close()
	dateFmt := "yyyy-mm-dd"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	head := make([]any, len(benchColumns))
	for i, c := range benchColumns {
		head[i] = c
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	date := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return excelize.Cell{StyleID: dateStyle, Value: *t}
	}
	pounds := func(a money.Amount) float64 { return float64(a) / money.Scale }
	r := 1
	row := make([]any, len(benchColumns))
	err = Each(ctx, pool, first, Filter{}, func(l Line) error {
		r++
		row = append(row[:0], l.Period.Format("2006-01"), l.Kind, day(l.Corrects), l.InstanceRef, l.Source,
			export.SafeText(l.CCGCode), export.SafeText(l.CCGName), l.PracticeCode, export.SafeText(l.PracticeName),
			l.SupplierID, export.SafeText(l.SupplierName), l.ProductID, export.SafeText(l.ProductName), l.ProductType,
			export.SafeText(l.Unit), l.TimeUnit, l.Quantity, pounds(l.Price), l.DaysCharged, l.DaysInMonth, pounds(l.Amount),
			state(l), date(l.ActualM1), date(l.M2), date(l.Cessation))
		return sw.SetRow("A"+strconv.Itoa(r), row)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}
