package server

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"ccgtracker/internal/dates"
)

// performanceApp is a test app (its clock on 24 November 2026, 10:00)
// with a few returns of London, whose returns are due on the 8th (for
// October, Monday 9 November):
//
//	September: A3A8R one day late, submitted at midnight London time;
//	October:   36L on time, 72Q three days late, 93C not submitted
//	           (15 days late on the 24th).
//
// The South West has none.
func performanceApp(t *testing.T) *testApp {
	t.Helper()
	app := newTestApp(t, nil)
	ctx := context.Background()
	add := func(ccg, period string, due time.Time, submitted *time.Time) {
		status := "issued"
		if submitted != nil {
			status = "submitted"
		}
		first, _ := time.Parse("2006-01", period)
		if _, err := app.pool.Exec(ctx, `
			INSERT INTO tracker_returns (ccg_code, period, due_date, status, issued_at, submitted_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, ccg, first, due, status, first.Add(9*time.Hour), submitted); err != nil {
			t.Fatal(err)
		}
	}
	london := func(y int, m time.Month, d, h int) *time.Time {
		at := time.Date(y, m, d, h, 0, 0, 0, dates.London)
		return &at
	}
	add("A3A8R", "2026-09", dates.Date(2026, 10, 8), london(2026, 10, 9, 0))
	add("36L", "2026-10", dates.Date(2026, 11, 9), london(2026, 11, 1, 10))
	add("72Q", "2026-10", dates.Date(2026, 11, 9), london(2026, 11, 12, 10))
	add("93C", "2026-10", dates.Date(2026, 11, 9), nil)
	return app
}

// cellText is a cell's text as it shows on a wide screen: without the
// headings the responsive table shows on a narrow one, or the words only
// a screen reader hears.
func cellText(s *goquery.Selection) string {
	c := s.Clone()
	c.Find(".nhsuk-table-responsive__heading, .nhsuk-u-visually-hidden").Remove()
	return strings.Join(strings.Fields(c.Text()), " ")
}

// figures reads a row of a figures table: due, on time, late, share on
// time, average days late, outstanding.
func figures(t *testing.T, d *goquery.Document, table, row string) string {
	t.Helper()
	tr := d.Find("[data-testid=" + table + "] tr[data-row='" + row + "']")
	if tr.Length() != 1 {
		t.Fatalf("%d rows %q in %s", tr.Length(), row, table)
	}
	var out []string
	for _, id := range []string{"due", "on-time", "late", "share", "average-late", "outstanding"} {
		out = append(out, cellText(tr.Find("[data-testid="+id+"]")))
	}
	return strings.Join(out, " | ")
}

func TestPerformancePage(t *testing.T) {
	t.Parallel()
	app := performanceApp(t)
	c := app.client()
	c.signIn("reviewer@example.nhs.uk")

	// By default the twelve months to last month, October 2026.
	resp := c.get("/performance")
	wantStatus(t, resp, http.StatusOK)
	d := doc(t, resp)
	if h := d.Find("h1").Text(); h != "Monitor performance" {
		t.Errorf("h1 %q", h)
	}
	if months := d.Find(".nhsuk-caption-l").Text(); months != "November 2025 to October 2026" {
		t.Errorf("caption %q", months)
	}
	if a := d.Find(".nhsuk-header__navigation-list a[href='/performance']"); a.Length() != 1 {
		t.Error("the menu has no link to Monitor performance")
	}
	// London: 4 due, 1 on time; late 1 + 3 + 15 days, over 3.
	for _, w := range []struct{ table, row, want string }{
		{"performance-regions", "London", "4 | 1 | 3 | 25% | 6.3 | 1"},
		{"performance-regions", "South West", "0 | 0 | 0 | – | – | 0"},
		{"performance-regions", "England", "4 | 1 | 3 | 25% | 6.3 | 1"},
	} {
		t.Run(w.row, func(t *testing.T) {
			if got := figures(t, d, w.table, w.row); got != w.want {
				t.Errorf("%s: %s reads %q, want %q", w.table, w.row, got, w.want)
			}
		})
	}
	// Each region by month: London's September and October.
	london := d.Find("h3#region-Y56").Next()
	for row, want := range map[string]string{
		"September 2026": "1 | 0 | 1 | 0% | 1.0 | 0",
		"October 2026":   "3 | 1 | 2 | 33% | 9.0 | 1",
		"August 2026":    "0 | 0 | 0 | – | – | 0",
		"All 12 months":  "4 | 1 | 3 | 25% | 6.3 | 1",
	} {
		t.Run("London, "+row, func(t *testing.T) {
			tr := london.Find("tr[data-row='" + row + "']")
			var got []string
			tr.Find("td").Each(func(_ int, td *goquery.Selection) { got = append(got, cellText(td)) })
			if strings.Join(got, " | ") != want {
				t.Errorf("London, %s reads %q, want %q", row, strings.Join(got, " | "), want)
			}
		})
	}
	// An absent figure says why to a screen reader.
	if s := d.Find("[data-testid=performance-regions] tr[data-row='South West'] [data-testid=share] .nhsuk-u-visually-hidden").Text(); s != "none due" {
		t.Errorf("South West's share is read out as %q", s)
	}

	// The chart: an image named by its title and description, a line and
	// a point per month with a value, and the same figures in a table.
	t.Run("chart", func(t *testing.T) {
		svg := d.Find("[data-testid=performance-chart] svg[role=img]")
		if svg.Length() != 1 {
			t.Fatal("no chart")
		}
		if l, _ := svg.Attr("aria-labelledby"); l != "chart-title chart-desc" {
			t.Errorf("aria-labelledby %q", l)
		}
		if !strings.Contains(svg.Find("title#chart-title").Text(), "on time") || !strings.Contains(svg.Find("desc#chart-desc").Text(), "The table after the chart gives the same figures") {
			t.Errorf("title %q, desc %q", svg.Find("title").Text(), svg.Find("desc").Text())
		}
		if n := svg.Find("g[data-series]").Length(); n != 7 {
			t.Errorf("%d lines, want one per region", n)
		}
		ldn := svg.Find("g[data-series='London']")
		// September 0%, October 33%: one segment of two points, from x 104 + 10·52
		// to the right edge, at y 320 (0%) and 320 - 33·3 = 221.
		if pts, _ := ldn.Find("polyline").Attr("points"); pts != "624,320 676,221" || ldn.Find("polyline").Length() != 1 {
			t.Errorf("London's line is %q (%d segments)", pts, ldn.Find("polyline").Length())
		}
		if n := ldn.Children().Not("polyline").Length(); n != 2 {
			t.Errorf("London has %d points, want 2", n)
		}
		if n := svg.Find("g[data-series='South West']").Children().Length(); n != 0 {
			t.Errorf("the South West, with nothing due, has %d marks", n)
		}
		for _, label := range []string{"0%", "100%", "Nov", "Oct", "Month the return is for", "Share on time"} {
			if svg.Find("text:contains('"+label+"')").Length() == 0 {
				t.Errorf("the chart has no label %q", label)
			}
		}
		data := d.Find("[data-testid=chart-data]")
		headers := data.Find("thead th").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
		col := -1
		for i, h := range headers {
			if h == "London" {
				col = i
			}
		}
		if col < 0 {
			t.Fatalf("the chart's table has no London column: %q", headers)
		}
		oct := data.Find("tr[data-row='October 2026']").Children().Eq(col)
		if got := cellText(oct); got != "33%" {
			t.Errorf("the chart's table has London in October at %q, want 33%%", got)
		}
	})

	// One region: its months, and each CCG over the twelve months.
	t.Run("one region", func(t *testing.T) {
		resp := c.get("/performance?region=Y56&period=2026-10")
		wantStatus(t, resp, http.StatusOK)
		d := doc(t, resp)
		if h := d.Find("h1").Text(); h != "Monitor performance: London" {
			t.Errorf("h1 %q", h)
		}
		for row, want := range map[string]string{
			"NHS South West London CCG (36L)":    "1 | 1 | 0 | 100% | – | 0",
			"NHS South East London CCG (72Q)":    "1 | 0 | 1 | 0% | 3.0 | 0",
			"NHS North East London CCG (A3A8R)":  "1 | 0 | 1 | 0% | 1.0 | 0",
			"NHS North Central London CCG (93C)": "1 | 0 | 1 | 0% | 15.0 | 1",
			"NHS North West London CCG (W2U3Z)":  "0 | 0 | 0 | – | – | 0",
			"London":                             "4 | 1 | 3 | 25% | 6.3 | 1",
		} {
			t.Run(row, func(t *testing.T) {
				if got := figures(t, d, "performance-ccgs", row); got != want {
					t.Errorf("London's CCGs: %s reads %q, want %q", row, got, want)
				}
			})
		}
		if d.Find("[data-testid=performance-chart]").Length() != 0 {
			t.Error("the chart of every region is on one region's page")
		}
		if href, _ := d.Find("[data-testid=performance-csv]").Attr("href"); href != "/performance.csv?period=2026-10&region=Y56" {
			t.Errorf("CSV link %q", href)
		}
	})

	// Twelve months to September: October's returns are left out.
	t.Run("twelve months to September", func(t *testing.T) {
		d := doc(t, c.get("/performance?period=2026-09"))
		if got := figures(t, d, "performance-regions", "London"); got != "1 | 0 | 1 | 0% | 1.0 | 0" {
			t.Errorf("to September, London reads %q", got)
		}
	})

	for _, path := range []string{"/performance?region=Y99", "/performance/x", "/performancex", "/performance.xlsx"} {
		t.Run("NotFound "+path, func(t *testing.T) {
			wantStatus(t, c.get(path), http.StatusNotFound)
		})
	}
}

func TestPerformanceCSV(t *testing.T) {
	t.Parallel()
	app := performanceApp(t)
	// A name a spreadsheet would run as a formula.
	if _, err := app.pool.Exec(context.Background(), `UPDATE ccgs SET name = '=HYPERLINK("http://x")' WHERE code = '36L'`); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.signIn("finance@example.nhs.uk")

	resp := c.get("/performance.csv?period=2026-10")
	wantStatus(t, resp, http.StatusOK)
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="performance-2026-10.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "Level,Region code,Region,CCG code,CCG,Month,Due,On time,Late,Share on time (%),Average days late,Days late in total,Outstanding" {
		t.Errorf("header %q", got)
	}
	// England, 7 regions and 106 CCGs, each with 12 months and a total.
	if n := len(rows) - 1; n != (1+7+106)*13 {
		t.Errorf("%d rows, want %d", n, (1+7+106)*13)
	}
	find := func(level, region, ccg, month string) string {
		for _, r := range rows[1:] {
			if r[0] == level && r[1] == region && r[3] == ccg && r[5] == month {
				return strings.Join(r[6:], ",")
			}
		}
		t.Errorf("no row %s %s %s %s", level, region, ccg, month)
		return ""
	}
	for _, w := range []struct{ level, region, ccg, month, want string }{
		{"England", "", "", "2025-11 to 2026-10", "4,1,3,25,6.3,19,1"},
		{"Region", "Y56", "", "2026-10", "3,1,2,33,9.0,18,1"},
		{"Region", "Y56", "", "2026-09", "1,0,1,0,1.0,1,0"},
		{"Region", "Y58", "", "2025-11 to 2026-10", "0,0,0,,,0,0"},
		{"CCG", "Y56", "93C", "2026-10", "1,0,1,0,15.0,15,1"},
		{"CCG", "Y56", "36L", "2026-10", "1,1,0,100,,0,0"},
	} {
		t.Run(strings.Join([]string{w.level, w.region, w.ccg, w.month}, " "), func(t *testing.T) {
			if got := find(w.level, w.region, w.ccg, w.month); got != w.want {
				t.Errorf("%s %s %s %s: %q, want %q", w.level, w.region, w.ccg, w.month, got, w.want)
			}
		})
	}
	for _, r := range rows[1:] {
		if r[3] == "36L" && r[4] != `'=HYPERLINK("http://x")` {
			t.Fatalf("the formula-like name is written %q", r[4])
		}
	}

	// One region: its rows and its CCGs'.
	resp = c.get("/performance.csv?period=2026-10&region=Y56")
	wantStatus(t, resp, http.StatusOK)
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="performance-Y56-2026-10.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err = csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rows) - 1; n != (1+5)*13 {
		t.Errorf("%d rows for London, want %d", n, (1+5)*13)
	}
}

func TestPerformanceAccess(t *testing.T) {
	t.Parallel()
	app := performanceApp(t)
	for _, who := range []struct {
		email string
		want  int
	}{
		{"buyer.16c@example.nhs.uk", http.StatusForbidden},
		{"reviewer@example.nhs.uk", http.StatusOK},
		{"finance@example.nhs.uk", http.StatusOK},
		{"admin@example.nhs.uk", http.StatusOK},
	} {
		t.Run(who.email, func(t *testing.T) {
			c := app.client()
			c.signIn(who.email)
			for _, path := range []string{"/performance", "/performance?region=Y56", "/performance.csv", "/performance.csv?region=Y56"} {
				if resp := c.get(path); resp.StatusCode != who.want {
					t.Errorf("%s as %s: %d, want %d", path, who.email, resp.StatusCode, who.want)
				}
			}
			if who.want == http.StatusForbidden {
				d := doc(t, c.get("/"))
				if d.Find(".nhsuk-header__navigation-list a[href='/performance']").Length() != 0 {
					t.Errorf("the menu of %s offers Monitor performance", who.email)
				}
			}
		})
	}
	// Nobody signed in is sent to sign in.
	wantRedirect(t, app.client().get("/performance.csv"), "/login?next=%2Fperformance.csv")
}
