package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"ccgtracker/internal/billing"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/export"
	"ccgtracker/internal/money"
	"ccgtracker/internal/testkit"
)

// reconScene makes two services at A81001 (list size 4,100) of CCG 16C:
// Emis Web GP under a continuity agreement, live and verified since 2020
// (£1.26 × 4,100 ÷ 12 = £430.50 a month), and a consultation product
// whose name starts with "=" (£37.92 a month) live from 12 October 2026
// and not yet verified: October charges it 20 of 31 days = £24.46, held.
func reconScene(t *testing.T, app *testApp) (consult int64) {
	t.Helper()
	if _, err := app.pool.Exec(context.Background(), `UPDATE catalogue_items SET name = '=HYPERLINK("http://evil.example","Consult")' WHERE id = '10000-002'`); err != nil {
		t.Fatal(err)
	}
	_, consult = testkit.ConsultScene(t, app.pool)
	return consult
}

const october = "2026-10"

func TestReconciliationMonthShowsTotalsAndExplainsLines(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	consult := reconScene(t, app)
	c := app.client()
	c.signIn("finance@example.nhs.uk")

	t.Run("index", func(t *testing.T) {
		resp := c.get("/reconciliation")
		wantStatus(t, resp, http.StatusOK)
		d := doc(t, resp)
		if got := d.Find(`[data-testid=recon-months] tr[data-row="2026-10"] a`).First().AttrOr("href", ""); got != "/reconciliation/2026-10" {
			t.Errorf("October's link: %q", got)
		}
		if got := d.Find(`[data-testid=chart-data] tr[data-row="October 2026"] td`).Text(); !strings.Contains(got, "£454.96") {
			t.Errorf("chart figures for October: %q, want £430.50 + £24.46 = £454.96", got)
		}
		if d.Find(`[data-testid=recon-chart] svg polyline`).Length() == 0 {
			t.Error("the chart has no line")
		}
	})

	t.Run("month", func(t *testing.T) {
		resp := c.get("/reconciliation/" + october)
		wantStatus(t, resp, http.StatusOK)
		d := doc(t, resp)
		row := d.Find(`[data-testid=recon-suppliers] tr[data-row="All"]`)
		if p, h := strings.TrimSpace(row.Find("[data-testid=payable]").Text()), strings.TrimSpace(row.Find("[data-testid=held]").Text()); !strings.HasSuffix(p, "£430.50") || !strings.HasSuffix(h, "£24.46") {
			t.Errorf("October's totals: payable %q, held %q", p, h)
		}
		if n := d.Find(`[data-testid=recon-ccgs] tbody tr`).Length(); n != 2 {
			t.Errorf("CCG totals: %d rows, want 16C and All", n)
		}
		if n := d.Find(`[data-testid=recon-lines] tbody tr`).Length(); n != 2 {
			t.Errorf("%d lines, want 2", n)
		}
	})

	t.Run("held", func(t *testing.T) {
		// Filtered to held lines: only the consultation.
		resp := c.get("/reconciliation/" + october + "?state=held")
		d := doc(t, resp)
		if n := d.Find(`[data-testid=recon-lines] tbody tr`).Length(); n != 1 {
			t.Errorf("held: %d lines, want 1", n)
		}
		if got := strings.TrimSpace(d.Find(`[data-testid=recon-suppliers] tr[data-row="All"] [data-testid=payable]`).Text()); !strings.HasSuffix(got, "£0.00") {
			t.Errorf("held: payable total %q, want £0.00", got)
		}
	})

	t.Run("line", func(t *testing.T) {
		resp := c.get("/reconciliation/" + october + "/lines/" + strconv.FormatInt(consult, 10))
		wantStatus(t, resp, http.StatusOK)
		got := doc(t, resp).Find(`[data-testid=explanation]`).Text()
		want := "£37.92 × 1 licence = £37.92 a month; active 12–31 Oct: 20 of 31 days ≈ £24.464516, £24.46 to the penny; held until M2 is recorded"
		if got != want {
			t.Errorf("explanation:\n got %q\nwant %q", got, want)
		}
	})
}

func TestReconciliationCSVEscapesFormulasAndParses(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	reconScene(t, app)
	c := app.client()
	c.signIn("finance@example.nhs.uk")
	resp := c.get("/reconciliation/" + october + ".csv")
	wantStatus(t, resp, http.StatusOK)
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="reconciliation-2026-10.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("\r\n\r\nTotals by supplier\r\n")) || !bytes.Contains(raw, []byte("\r\n\r\nTotals by CCG\r\n")) {
		t.Errorf("the totals do not follow a blank row:\n%s", raw)
	}
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	lines, err := billing.Lines(context.Background(), app.pool, dates.Date(2026, 10, 1), billing.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(records) < len(lines)+1 {
		t.Fatalf("%d records for %d lines", len(records), len(lines))
	}
	head := records[0]
	col := func(name string) int {
		for i, h := range head {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %q in %q", name, head)
		return -1
	}
	for i, l := range lines {
		rec := records[i+1]
		if rec[col("Service instance ID")] != l.InstanceRef || rec[col("Amount (£)")] != export.PlainAmount(l.Amount) ||
			rec[col("Payable or held")] != l.State() || rec[col("Period")] != october {
			t.Errorf("row %d: %q, want the line %s %s", i+1, rec, l.InstanceRef, l.Amount)
		}
		a, err := money.Parse(rec[col("Amount (£)")])
		if err != nil || a != l.Amount {
			t.Errorf("row %d: amount %q parses to %v (%v), want %v", i+1, rec[col("Amount (£)")], a, err, l.Amount)
		}
		name := rec[col("Product name")]
		if strings.HasPrefix(l.ProductName, "=") && name != "'"+l.ProductName {
			t.Errorf("row %d: product name %q is not escaped", i+1, name)
		}
		if !strings.HasPrefix(l.ProductName, "=") && name != l.ProductName {
			t.Errorf("row %d: product name %q, want %q", i+1, name, l.ProductName)
		}
	}
	for _, rec := range records {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
				t.Errorf("a cell would run as a formula: %q", cell)
			}
		}
	}
	// The totals (after a blank row, which encoding/csv skips): by
	// supplier, then by CCG.
	rest := records[len(lines)+1:]
	joined := []string{""}
	for _, rec := range rest {
		joined = append(joined, strings.Join(rec, "|"))
	}
	all := strings.Join(joined, "\n")
	for _, want := range []string{"\nTotals by supplier\nSupplier code|", "\n10000|", "|430.50|24.46|0.00|454.96\n", "\nTotals by CCG\nCCG code|", "\n16C|"} {
		if !strings.Contains(all, want) {
			t.Errorf("totals: no %q in\n%s", want, all)
		}
	}
}

func TestReconciliationXLSXHasTheSameRows(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	reconScene(t, app)
	c := app.client()
	c.signIn("finance@example.nhs.uk")
	resp := c.get("/reconciliation/" + october + ".xlsx")
	wantStatus(t, resp, http.StatusOK)
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="reconciliation-2026-10.xlsx"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read from memory
	if got := f.GetSheetList(); strings.Join(got, "|") != "Lines|Totals by supplier|Totals by CCG" {
		t.Errorf("sheets %q", got)
	}
	rows, err := f.GetRows(reconSheetLines, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	lines, err := billing.Lines(context.Background(), app.pool, dates.Date(2026, 10, 1), billing.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(lines)+1 {
		t.Fatalf("%d rows for %d lines", len(rows), len(lines))
	}
	// The dimension names every row, as streaming readers need.
	if dim, err := f.GetSheetDimension(reconSheetLines); err != nil || dim != "A1:Y"+strconv.Itoa(len(lines)+1) {
		t.Errorf("dimension %q (%v), want A1:Y%d", dim, err, len(lines)+1)
	}
	// The header is bold and frozen.
	if strings.Join(rows[0], "|") != strings.Join(billing.ExportColumns, "|") {
		t.Errorf("header %q", rows[0])
	}
	if id, err := f.GetCellStyle(reconSheetLines, "A1"); err != nil {
		t.Error(err)
	} else if st, err := f.GetStyle(id); err != nil || st.Font == nil || !st.Font.Bold {
		t.Errorf("the header is not bold: %+v (%v)", st, err)
	}
	if panes, err := f.GetPanes(reconSheetLines); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v (%v), want the first row frozen", panes, err)
	}
	col := func(name string) int {
		return slices.Index(billing.ExportColumns, name) + 1
	}
	cell := func(c, r int) string {
		n, _ := excelize.CoordinatesToCellName(c, r)
		return n
	}
	numFmt := func(c, r int) string {
		id, err := f.GetCellStyle(reconSheetLines, cell(c, r))
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil || st.CustomNumFmt == nil {
			return ""
		}
		return *st.CustomNumFmt
	}
	for i, l := range lines {
		r := i + 2
		rec := rows[i+1]
		get := func(name string) string {
			if c := col(name); c-1 < len(rec) {
				return rec[c-1]
			}
			return ""
		}
		if get("Service instance ID") != l.InstanceRef || get("Payable or held") != l.State() || get("Period") != october {
			t.Errorf("row %d: %q, want the line %s", r, rec, l.InstanceRef)
		}
		// Money: a number in the currency format, to the penny.
		for name, want := range map[string]money.Amount{"Amount (£)": l.Amount, "Price (£)": l.Price} {
			a, err := money.Parse(get(name))
			if err != nil || a != want {
				t.Errorf("row %d, %s: %q, want %s", r, name, get(name), want)
			}
			if typ, _ := f.GetCellType(reconSheetLines, cell(col(name), r)); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
				t.Errorf("row %d, %s is of type %v, want a number", r, name, typ)
			}
			if got := numFmt(col(name), r); !strings.Contains(got, "£") {
				t.Errorf("row %d, %s: number format %q, want pounds", r, name, got)
			}
		}
		if get("Quantity") != strconv.Itoa(l.Quantity) {
			t.Errorf("row %d: quantity %q, want %d", r, get("Quantity"), l.Quantity)
		}
		// Dates: day numbers in a date format, reading back as the day.
		if numFmt(col("M1"), r) != "yyyy-mm-dd" {
			t.Errorf("row %d: M1's format %q, want a date", r, numFmt(col("M1"), r))
		}
		if got, err := f.GetCellValue(reconSheetLines, cell(col("M1"), r)); err != nil || got != l.ActualM1.Format(time.DateOnly) {
			t.Errorf("row %d: M1 %q (%v), want %s", r, got, err, l.ActualM1.Format(time.DateOnly))
		}
		serial, err := strconv.Atoi(get("M1"))
		if err != nil || dates.Date(1899, 12, 30).AddDate(0, 0, serial) != *l.ActualM1 {
			t.Errorf("row %d: M1's day number %q, want %s", r, get("M1"), l.ActualM1.Format(time.DateOnly))
		}
		// Text is escaped against formulas, as in the CSV.
		if name := get("Product name"); name != export.SafeText(l.ProductName) {
			t.Errorf("row %d: product name %q, want %q", r, name, export.SafeText(l.ProductName))
		}
		if typ, _ := f.GetCellType(reconSheetLines, cell(col("Product name"), r)); typ != excelize.CellTypeInlineString {
			t.Errorf("row %d: the product name is of type %v, want text", r, typ)
		}
	}
	sup, err := f.GetRows(reconSheetSuppliers, excelize.Options{RawCellValue: true})
	if err != nil || len(sup) != 2 || sup[1][0] != "10000" || sup[1][len(sup[1])-1] != "454.96" {
		t.Errorf("totals by supplier: %q (%v)", sup, err)
	}
	ccg, err := f.GetRows(reconSheetCCGs, excelize.Options{RawCellValue: true})
	if err != nil || len(ccg) != 2 || ccg[1][0] != "16C" || ccg[1][len(ccg[1])-1] != "454.96" {
		t.Errorf("totals by CCG: %q (%v)", ccg, err)
	}
	if dim, err := f.GetSheetDimension(reconSheetCCGs); err != nil || dim != "A1:F2" {
		t.Errorf("totals by CCG's dimension %q (%v)", dim, err)
	}

	// HEAD: the headers, no body.
	head := c.do(http.MethodHead, "/reconciliation/"+october+".xlsx", nil)
	if head.StatusCode != http.StatusOK || head.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("HEAD: %d %q", head.StatusCode, head.Header.Get("Content-Type"))
	}
}

func TestReconciliationRefusesBuyersAndReviewers(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	reconScene(t, app)
	paths := []string{"/reconciliation", "/reconciliation/" + october, "/reconciliation/" + october + ".csv",
		"/reconciliation/" + october + ".xlsx", "/reconciliation/" + october + "/close"}
	for _, who := range []struct {
		email string
		want  int
	}{
		{"buyer.16c@example.nhs.uk", http.StatusForbidden},
		{"reviewer@example.nhs.uk", http.StatusForbidden},
		{"finance@example.nhs.uk", http.StatusOK},
	} {
		t.Run(who.email, func(t *testing.T) {
			c := app.client()
			c.signIn(who.email)
			for _, p := range paths {
				if resp := c.get(p); resp.StatusCode != who.want {
					t.Errorf("GET %s as %s: %d, want %d", p, who.email, resp.StatusCode, who.want)
				}
			}
			if who.want == http.StatusForbidden {
				if resp := c.post("/reconciliation/"+october+"/close", nil); resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST close as %s: %d, want 403", who.email, resp.StatusCode)
				}
			}
		})
	}
	t.Run("admin reads and exports but does not close", func(t *testing.T) {
		c := app.client()
		c.signIn("admin@example.nhs.uk")
		wantStatus(t, c.get("/reconciliation/"+october+".csv"), http.StatusOK)
		wantStatus(t, c.get("/reconciliation/"+october+"/close"), http.StatusForbidden)
	})
}

func TestReconciliationCloseConfirmedThenRefusedOutOfOrder(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	reconScene(t, app)
	c := app.client()
	c.signIn("finance@example.nhs.uk")

	resp := c.get("/reconciliation/" + october + "/close")
	wantStatus(t, resp, http.StatusOK)
	d := doc(t, resp)
	if !strings.Contains(d.Find(`[data-testid=close-warning]`).Text(), "cannot be undone") {
		t.Error("no warning that closing cannot be undone")
	}
	if d.Find(`form[action="/reconciliation/2026-10/close"] button`).Length() != 1 {
		t.Fatal("no button to close October")
	}
	wantRedirect(t, c.post("/reconciliation/"+october+"/close", nil), "/reconciliation/"+october)
	d = doc(t, c.get("/reconciliation/"+october))
	if got := d.Find(`[data-testid=month-state]`).Text(); !strings.Contains(got, "Closed on") || !strings.Contains(got, "by") {
		t.Errorf("October after closing: %q", got)
	}
	var n int
	if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'billing.close'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit records of closing: %d (%v)", n, err)
	}

	// Closed already; September is out of order; November has not ended.
	for _, tc := range []struct {
		name, period string
		status       int
		want         string
	}{
		{"ErrClosedAlready", october, http.StatusConflict, "October 2026 is closed already."},
		{"ErrOutOfOrder", "2026-09", http.StatusBadRequest, "Months close in order: close November 2026 first."},
		{"ErrNotEnded", "2026-11", http.StatusBadRequest, "November 2026 has not ended yet, so it cannot be closed."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.post("/reconciliation/"+tc.period+"/close", nil)
			if resp.StatusCode != tc.status {
				t.Errorf("close %s: %d, want %d", tc.period, resp.StatusCode, tc.status)
			}
			if got := strings.TrimSpace(doc(t, resp).Find(`[data-testid=close-refusal]`).Text()); !strings.Contains(got, tc.want) {
				t.Errorf("close %s: %q, want %q", tc.period, got, tc.want)
			}
		})
	}
	// The confirmation page says so before anyone tries.
	if got := doc(t, c.get("/reconciliation/2026-09/close")).Find(`[data-testid=close-refusal]`).Text(); !strings.Contains(got, "close November 2026 first") {
		t.Errorf("September's confirmation page: %q", got)
	}
}
