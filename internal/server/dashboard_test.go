package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"ccgtracker/internal/billing"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/testkit"
	"ccgtracker/internal/tracker"
)

func TestBuyerDashboardShowsTheReturnToDo(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil) // the clock stands on 24 November 2026
	ctx := context.Background()
	for _, month := range []string{"2026-09", "2026-10", "2026-11"} {
		p, _ := tracker.ParsePeriod(month)
		if _, err := tracker.NewStore(app.pool, time.Now).Issue(ctx, org.System(), p); err != nil {
			t.Fatal(err)
		}
	}
	// September's was submitted; October's (due 20 November) is open and late.
	if _, err := app.pool.Exec(ctx, `UPDATE tracker_returns SET status = 'submitted', submitted_at = '2026-10-19 12:00Z' WHERE ccg_code = '16C' AND period = '2026-09-01'`); err != nil {
		t.Fatal(err)
	}
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	d := doc(t, buyer.get("/"))
	card := d.Find("[data-testid=current-return]").Text()
	if !strings.Contains(card, "October 2026") || !strings.Contains(card, "Due 20 November 2026") {
		t.Errorf("current return card: %q", card)
	}
	if banner := d.Find("[data-testid=late-banner]").Text(); !strings.Contains(banner, "4 days late") {
		t.Errorf("late banner: %q", banner)
	}
	if late := doc(t, buyer.get("/ccgs/16C")).Find("[data-testid=ccg-late]").Text(); !strings.Contains(late, "October 2026 is 4 days late") {
		t.Errorf("CCG page late note: %q", late)
	}
	// Earlier returns are the months before October's: September's, not
	// November's, which is later.
	earlier := d.Find("[data-testid=earlier-returns] tbody tr")
	if earlier.Length() != 1 || !strings.Contains(earlier.Text(), "September 2026") || !strings.Contains(earlier.Text(), "Submitted") {
		t.Errorf("earlier returns: %q", earlier.Text())
	}
}

func TestAdminSetsDueDayAndIssuesReturns(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	admin := app.client()
	admin.signIn("admin@example.nhs.uk")
	// Not a number: the form's own word, beside the input; nothing saved.
	resp := admin.post("/admin/ccgs/16C", url.Values{"due-day": {"3rd"}})
	wantStatus(t, resp, http.StatusBadRequest)
	if page := doc(t, resp); !strings.Contains(page.Find(".nhsuk-error-summary").Text(), "must be a number from 1 to 28") ||
		page.Find(`.nhsuk-error-summary a[href="#due-day"]`).Length() != 1 {
		t.Error("a due day that is not a number was not explained at its input")
	}
	var override *int
	if err := app.pool.QueryRow(context.Background(), `SELECT due_day FROM ccgs WHERE code = '16C'`).Scan(&override); err != nil || override != nil {
		t.Errorf("a due day that is not a number was saved: %v %v", override, err)
	}
	resp = admin.post("/admin/ccgs/16C", url.Values{"due-day": {"31"}})
	wantStatus(t, resp, http.StatusBadRequest)
	if !strings.Contains(doc(t, resp).Find(".nhsuk-error-summary").Text(), "from 1 to 28") {
		t.Error("a due day of 31 was not explained")
	}
	wantRedirect(t, admin.post("/admin/ccgs/16C", url.Values{"due-day": {"3"}}), "/ccgs/16C")
	resp = admin.post("/admin/returns/issue", url.Values{"period": {"2026-11"}})
	wantRedirect(t, resp, "/admin/returns")
	if msg := doc(t, admin.get("/admin/returns")).Find(".nhsuk-notification-banner").Text(); !strings.Contains(msg, "106 returns issued for November 2026") {
		t.Errorf("flash %q", msg)
	}
	var due string
	if err := app.pool.QueryRow(context.Background(), `SELECT due_date::text FROM tracker_returns WHERE ccg_code = '16C'`).Scan(&due); err != nil || due != "2026-12-03" {
		t.Errorf("16C's due date %q (%v), want 2026-12-03 from its own day", due, err)
	}
	wantStatus(t, admin.post("/admin/returns/issue", url.Values{"period": {"November"}}), http.StatusBadRequest)
	// A month that has not started yet cannot be issued (the clock stands in November 2026).
	wantStatus(t, admin.post("/admin/returns/issue", url.Values{"period": {"2027-01"}}), http.StatusBadRequest)
	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	wantStatus(t, reviewer.post("/admin/returns/issue", url.Values{"period": {"2026-12"}}), http.StatusForbidden)
}

// dashboardApp is a return app with, for 16C and for 03Q each, planned
// services due by the end of November (one overdue), one due later, and
// October's accepted return with a cessation requested for December.
type dashboardApp struct {
	*returnApp
	dueRefs, otherRefs                  []string // 16C's due by the end of November, 03Q's
	laterRef, requested, otherRequested string   // 16C's due in December; the services the requested cessations name
}

func newDashboardApp(t *testing.T) *dashboardApp {
	t.Helper()
	app := &dashboardApp{returnApp: newReturnApp(t)}
	ctx := context.Background()
	// Continuity services made planned again, by SQL: the dashboard reads
	// the ledger's state and planned M1, however a service came to be
	// planned (orders make them so in the other tests).
	plan := func(ccg string, plannedM1 ...string) []string {
		t.Helper()
		rows, err := app.pool.Query(ctx, `
			WITH last AS (
				SELECT id FROM service_instances WHERE ccg_code = $1 AND state = 'active' ORDER BY practice_code DESC, id LIMIT $2),
			picked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM last)
			UPDATE service_instances si SET state = 'planned', actual_m1 = NULL, m2 = NULL,
				planned_m1 = ($3::date[])[picked.n]
			FROM picked WHERE si.id = picked.id
			RETURNING 'SI' || si.id || '-' || si.practice_code, si.planned_m1`, ccg, len(plannedM1), plannedM1)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for rows.Next() {
			var ref string
			var d time.Time
			if err := rows.Scan(&ref, &d); err != nil {
				t.Fatal(err)
			}
			refs = append(refs, ref)
		}
		if rows.Err() != nil || len(refs) != len(plannedM1) {
			t.Fatalf("planned %d services of %s: %v", len(refs), ccg, rows.Err())
		}
		return refs
	}
	refs := plan("16C", "2026-11-20", "2026-11-30", "2026-12-05")
	for _, ref := range refs {
		var m1 string
		if err := app.pool.QueryRow(ctx, `SELECT planned_m1::text FROM service_instances WHERE 'SI' || id || '-' || practice_code = $1`, ref).Scan(&m1); err != nil {
			t.Fatal(err)
		}
		if m1 == "2026-12-05" {
			app.laterRef = ref
		} else {
			app.dueRefs = append(app.dueRefs, ref)
		}
	}
	app.otherRefs = plan("03Q", "2026-11-25")

	// October's return of each CCG, accepted, with a cessation requested
	// for 5 December.
	oct, _ := tracker.ParsePeriod("2026-10")
	if _, err := app.srv.tracker.Issue(ctx, org.System(), oct); err != nil {
		t.Fatal(err)
	}
	request := func(ccg string) string {
		t.Helper()
		var practice, ref string
		if err := app.pool.QueryRow(ctx, `SELECT practice_code, 'SI' || id || '-' || practice_code FROM service_instances
			WHERE ccg_code = $1 AND state = 'active' ORDER BY practice_code, id LIMIT 1`, ccg).Scan(&practice, &ref); err != nil {
			t.Fatal(err)
		}
		scope := org.OnlyCCG(ccg)
		version := func() int {
			r, err := tracker.Get(ctx, app.pool, scope, ccg, oct)
			if err != nil {
				t.Fatal(err)
			}
			return r.Version
		}
		if err := app.srv.tracker.AddLine(ctx, org.Actor{Scope: scope}, ccg, oct, version(),
			tracker.LineInput{Kind: tracker.Cessation, Practice: practice, Instance: ref, Date: dates.Date(2026, 12, 5), Note: "planned closure"}); err != nil {
			t.Fatal(err)
		}
		if err := app.srv.tracker.Submit(ctx, org.Actor{Scope: scope}, ccg, oct, version(), false); err != nil {
			t.Fatal(err)
		}
		if _, err := app.srv.tracker.Accept(ctx, org.System(), ccg, oct, version()); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	app.requested, app.otherRequested = request("16C"), request("03Q")
	return app
}

// A buyer's dashboard: what needs attention in the month, of their own
// CCG only.
func TestBuyerDashboardShowsWhatNeedsAttention(t *testing.T) {
	t.Parallel()
	app := newDashboardApp(t)
	buyer := app.clientAs("buyer.16c@example.nhs.uk")
	d := doc(t, buyer.get("/"))
	// October's is accepted: November's is the return to do, sent once
	// November is over.
	if card := d.Find("[data-testid=current-return]").Text(); !strings.Contains(card, "November 2026") ||
		!strings.Contains(d.Find("[data-testid=current-submit-from]").Text(), "you can submit it from 1 December 2026") {
		t.Errorf("the current return: %q", card)
	}
	due := d.Find("[data-testid=due-to-go-live] tbody tr")
	if due.Length() != 2 {
		t.Fatalf("%d services due to go live, want 2: %q", due.Length(), due.Text())
	}
	// The overdue one (20 November) first, marked so.
	if first := due.First().Text(); !strings.Contains(first, app.dueRefs[0]) && !strings.Contains(first, app.dueRefs[1]) || !strings.Contains(first, "20 November 2026") || !strings.Contains(first, "Overdue") {
		t.Errorf("the first service due: %q", first)
	}
	if second := due.Eq(1).Text(); !strings.Contains(second, "30 November 2026") || strings.Contains(second, "Overdue") {
		t.Errorf("the second service due: %q", second)
	}
	if h := d.Find("[data-testid=due-heading]").Text(); !strings.Contains(h, "2 planned services due to go live by the end of November 2026") {
		t.Errorf("heading %q", h)
	}
	awaiting := d.Find("[data-testid=awaiting-date] tbody tr")
	if awaiting.Length() != 1 || !strings.Contains(awaiting.Text(), app.requested) || !strings.Contains(awaiting.Text(), "5 December 2026") || !strings.Contains(awaiting.Text(), "Cessation") {
		t.Errorf("requested changes awaiting their date: %q", awaiting.Text())
	}
	page := d.Find("main").Text()
	for _, ref := range append([]string{app.laterRef, app.otherRequested}, app.otherRefs...) {
		if strings.Contains(page, ref) {
			t.Errorf("the 16C buyer's dashboard shows %s", ref)
		}
	}
	// Nothing of the other roles' work, nor of another CCG.
	for _, sel := range []string{"[data-testid=awaiting-review]", "[data-testid=late-returns]", "[data-testid=regions]", "[data-testid=ready-to-close]", "[data-testid=failed-emails]", "[data-testid=user-counts]"} {
		if d.Find(sel).Length() != 0 {
			t.Errorf("the buyer's dashboard has %s", sel)
		}
	}
	if strings.Contains(page, "03Q") || strings.Contains(page, "Vale of York") {
		t.Errorf("the 16C buyer's dashboard names 03Q")
	}
	// 03Q's buyer sees 03Q's, and none of 16C's.
	other := doc(t, app.clientAs("buyer.03q@example.nhs.uk").get("/")).Find("main").Text()
	if !strings.Contains(other, app.otherRefs[0]) || !strings.Contains(other, app.otherRequested) {
		t.Errorf("03Q's dashboard lacks its own work: %q", other)
	}
	for _, ref := range append([]string{app.requested, app.laterRef}, app.dueRefs...) {
		if strings.Contains(other, ref) {
			t.Errorf("03Q's buyer's dashboard shows 16C's %s", ref)
		}
	}
}

// The reviewer's dashboard: returns awaiting review oldest first, late
// returns, and those sent back and not yet resubmitted; no money.
func TestReviewerDashboardShowsTheReviewWork(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	ctx := context.Background()
	oct, _ := tracker.ParsePeriod("2026-10")
	if _, err := app.srv.tracker.Issue(ctx, org.System(), oct); err != nil {
		t.Fatal(err)
	}
	submit := func(ccg string, at time.Time) {
		t.Helper()
		scope := org.OnlyCCG(ccg)
		r, err := tracker.Get(ctx, app.pool, scope, ccg, oct)
		if err != nil {
			t.Fatal(err)
		}
		if err := tracker.NewStore(app.pool, testkit.NewClock(at).Now).Submit(ctx, org.Actor{Scope: scope}, ccg, oct, r.Version, true); err != nil {
			t.Fatal(err)
		}
	}
	// 03Q submitted first, then 16C; 00L's was sent back.
	submit("03Q", time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC))
	submit("16C", time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))
	submit("00L", time.Date(2026, 11, 4, 9, 0, 0, 0, time.UTC))
	r, err := tracker.Get(ctx, app.pool, org.AllCCGs(), "00L", oct)
	if err != nil {
		t.Fatal(err)
	}
	if err := tracker.NewStore(app.pool, testkit.NewClock(time.Date(2026, 11, 5, 9, 0, 0, 0, time.UTC)).Now).ReturnToCCG(ctx, org.System(), "00L", oct, r.Version, "Was nothing changed?", nil); err != nil {
		t.Fatal(err)
	}
	var late int // October's returns still open whose due day has ended (by 24 November)
	if err := app.pool.QueryRow(ctx, `SELECT count(*) FROM tracker_returns WHERE period = '2026-10-01' AND status IN ('issued', 'draft', 'returned') AND due_date < '2026-11-24'`).Scan(&late); err != nil {
		t.Fatal(err)
	}
	if late <= dashboardRows {
		t.Fatalf("the fixture has %d late returns, want more than a page of them", late)
	}

	d := doc(t, app.clientAs("reviewer@example.nhs.uk").get("/"))
	awaiting := d.Find("[data-testid=awaiting-review] tbody tr")
	if awaiting.Length() != 2 || !strings.Contains(awaiting.First().Text(), "Vale of York") || !strings.Contains(awaiting.Eq(1).Text(), "Tees Valley") {
		t.Errorf("awaiting review, oldest first: %q", awaiting.Text())
	}
	if href, _ := awaiting.First().Find("a").Attr("href"); href != "/ccgs/03Q/returns/2026-10/review" {
		t.Errorf("the first return awaiting review links to %q", href)
	}
	if h := d.Find("[data-testid=late-heading]").Text(); !strings.Contains(h, strconv.Itoa(late)+" late returns") {
		t.Errorf("late heading %q, want %d late returns", h, late)
	}
	if n := d.Find("[data-testid=late-returns] tbody tr").Length(); n != dashboardRows {
		t.Errorf("%d late returns listed, want the first %d", n, dashboardRows)
	}
	sentBack := d.Find("[data-testid=sent-back] tbody tr")
	if sentBack.Length() != 1 || !strings.Contains(sentBack.Text(), "5 November 2026") {
		t.Errorf("sent back: %q", sentBack.Text())
	}
	for _, sel := range []string{"[data-testid=ready-to-close]", "[data-testid=next-month]", "[data-testid=failed-emails]", "[data-testid=user-counts]", "[data-testid=due-to-go-live]"} {
		if d.Find(sel).Length() != 0 {
			t.Errorf("the reviewer's dashboard has %s", sel)
		}
	}
	if strings.Contains(d.Find("main").Text(), "£") {
		t.Error("the reviewer's dashboard shows money")
	}
}

// Finance's dashboard: the months ready to close, the money of the next
// one, and the adjustments waiting once a month is closed.
func TestFinanceDashboardShowsTheMonthsToClose(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	fin := app.clientAs("finance@example.nhs.uk")
	d := doc(t, fin.get("/"))
	// No month closed yet: each ended month of the last twelve may be the
	// first; the one just ended (October, on 24 November) is shown.
	ready := d.Find("[data-testid=ready-to-close] li")
	if ready.Length() != 12 || !strings.Contains(ready.First().Text(), "November 2025") || !strings.Contains(ready.Last().Text(), "October 2026") {
		t.Errorf("months ready to close: %q", ready.Text())
	}
	next := d.Find("[data-testid=next-month]").Text()
	if !strings.Contains(next, "Payable") || !strings.Contains(next, "Held") || !strings.Contains(next, "£") {
		t.Errorf("the next month's money: %q", next)
	}
	if !strings.Contains(d.Find("main").Text(), "October 2026: held and payable") {
		t.Error("the month to close next is not October 2026")
	}
	// The figures are October's reconciliation.
	oct, err := billing.NewService(app.pool, time.Now).Month(context.Background(), dates.Date(2026, 10, 1))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	d.Find("[data-testid=next-month] dd").Each(func(_ int, dd *goquery.Selection) { got = append(got, strings.TrimSpace(dd.Text())) })
	if want := []string{oct.All.Payable.String(), oct.All.Held.String(), oct.All.Adjustments.String()}; !slices.Equal(got, want) || oct.All.Payable == 0 {
		t.Errorf("October's payable, held and adjustments: %q, want %q", got, want)
	}
	for _, sel := range []string{"[data-testid=awaiting-review]", "[data-testid=late-returns]", "[data-testid=failed-emails]", "[data-testid=user-counts]", "[data-testid=due-to-go-live]"} {
		if d.Find(sel).Length() != 0 {
			t.Errorf("finance's dashboard has %s", sel)
		}
	}

	// October closed: November has not ended, so nothing is ready; the
	// adjustments wait in November.
	wantRedirect(t, fin.post("/reconciliation/2026-10/close", nil), "/reconciliation/2026-10")
	d = doc(t, fin.get("/"))
	if ready := d.Find("[data-testid=ready-to-close] li"); ready.Length() != 0 || !strings.Contains(d.Find("[data-testid=ready-heading]").Text(), "0 months ready to close") {
		t.Errorf("after closing October: %q", d.Find("main").Text())
	}
	if adj := d.Find("main").Text(); !strings.Contains(adj, "carried by November 2026, the first open month: £0.00") {
		t.Errorf("adjustments waiting: %q", adj)
	}
}

// The admin's dashboard: the last nightly run, the emails that failed and
// the users.
func TestAdminDashboardShowsTheServiceRunning(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	ctx := context.Background()
	admin := app.clientAs("admin@example.nhs.uk")
	if got := doc(t, admin.get("/")).Find("[data-testid=last-run]").Text(); !strings.Contains(got, "has not run yet") {
		t.Errorf("before any run: %q", got)
	}
	if _, err := app.pool.Exec(ctx, `
		INSERT INTO job_runs (business_date, started_at, finished_at, outcome, issued, flagged, reminders, ceased, error)
		VALUES ('2026-11-22', '2026-11-22 01:00Z', '2026-11-22 01:01Z', 'succeeded', 0, 3, 5, 0, ''),
		       ('2026-11-23', '2026-11-23 01:00Z', '2026-11-23 01:01Z', 'failed', 0, 0, 0, 0, 'the database went away')`); err != nil {
		t.Fatal(err)
	}
	if _, err := app.pool.Exec(ctx, `
		INSERT INTO outbox (dedupe_key, kind, to_address, subject, body, created_at, next_attempt_at, sent_at, attempts, last_error)
		VALUES ('a', 'overdue', 'failed@example.nhs.uk', 'Your return is late', 'x', '2026-11-23 08:00Z', '2026-11-23 09:00Z', NULL, 3, '550 mailbox unavailable'),
		       ('b', 'overdue', 'sent@example.nhs.uk', 'Your return is late', 'x', '2026-11-23 08:00Z', '2026-11-23 08:00Z', '2026-11-23 08:01Z', 2, ''),
		       ('c', 'overdue', 'waiting@example.nhs.uk', 'Your return is late', 'x', '2026-11-23 08:00Z', '2026-11-23 08:00Z', NULL, 0, '')`); err != nil {
		t.Fatal(err)
	}
	if _, err := app.pool.Exec(ctx, `UPDATE users SET active = false WHERE email = 'buyer.03q@example.nhs.uk'`); err != nil {
		t.Fatal(err)
	}
	d := doc(t, admin.get("/"))
	t.Run("LastRun", func(t *testing.T) {
		if run := d.Find("[data-testid=last-run]").Text(); !strings.Contains(run, "failed") || !strings.Contains(run, "23 November 2026") || !strings.Contains(run, "the database went away") {
			t.Errorf("last run: %q", run)
		}
	})
	t.Run("FailedEmails", func(t *testing.T) {
		failed := d.Find("[data-testid=failed-emails] tbody tr")
		if failed.Length() != 1 || !strings.Contains(failed.Text(), "failed@example.nhs.uk") || !strings.Contains(failed.Text(), "550 mailbox unavailable") {
			t.Errorf("failed emails: %q", failed.Text())
		}
		if h := d.Find("[data-testid=failed-heading]").Text(); !strings.Contains(h, "1 email failed") {
			t.Errorf("failed heading %q", h)
		}
	})
	t.Run("UsersByRole", func(t *testing.T) {
		var want = map[string][3]int{}
		rows, err := app.pool.Query(ctx, `SELECT role, count(*) FILTER (WHERE active), count(*) FILTER (WHERE active AND password_hash IS NULL), count(*) FILTER (WHERE NOT active) FROM users GROUP BY role`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var role string
			var c [3]int
			if err := rows.Scan(&role, &c[0], &c[1], &c[2]); err != nil {
				t.Fatal(err)
			}
			want[role] = c
		}
		if want["buyer"][2] != 1 {
			t.Fatalf("the fixture has %d deactivated buyers, want 1", want["buyer"][2])
		}
		d.Find("[data-testid=user-counts] tbody tr").Each(func(_ int, tr *goquery.Selection) {
			role := map[string]string{"CCG buyer": "buyer", "NHS Digital reviewer": "reviewer", "NHS Digital finance": "finance", "Administrator": "admin"}[strings.TrimSpace(tr.Find("th").Text())]
			var got [3]int
			tr.Find("td").Each(func(i int, td *goquery.Selection) {
				got[i], _ = strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(td.Text()), ",", ""))
			})
			if role == "" || got != want[role] {
				t.Errorf("users row %q: %v, want %v", tr.Text(), got, want[role])
			}
		})
		if n := d.Find("[data-testid=user-counts] tbody tr").Length(); n != 4 {
			t.Errorf("%d rows of users, want one per role", n)
		}
	})
	t.Run("NoOtherRolesWork", func(t *testing.T) {
		for _, sel := range []string{"[data-testid=awaiting-review]", "[data-testid=ready-to-close]", "[data-testid=due-to-go-live]"} {
			if d.Find(sel).Length() != 0 {
				t.Errorf("the admin's dashboard has %s", sel)
			}
		}
	})
}

// Each dashboard costs a fixed number of queries however much work there
// is: no query per row.
func TestDashboardQueriesDoNotGrowWithTheWork(t *testing.T) {
	t.Parallel()
	pool, counter := pgtest.NewCounted(t)
	app := newReturnAppOn(t, pool)
	ctx := context.Background()
	oct, _ := tracker.ParsePeriod("2026-10")
	if _, err := app.srv.tracker.Issue(ctx, org.System(), oct); err != nil {
		t.Fatal(err)
	}
	emails := []string{"buyer.16c@example.nhs.uk", "reviewer@example.nhs.uk", "finance@example.nhs.uk", "admin@example.nhs.uk"}
	clients := map[string]*client{}
	for _, e := range emails {
		clients[e] = app.clientAs(e)
	}
	cost := func() map[string]int64 {
		out := map[string]int64{}
		for _, e := range emails {
			before := counter.Count()
			wantStatus(t, clients[e].get("/"), http.StatusOK)
			out[e] = counter.Count() - before
		}
		return out
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := app.pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	work := func(services, returns, emails int) {
		t.Helper()
		exec(`UPDATE service_instances SET state = 'planned', actual_m1 = NULL, m2 = NULL, planned_m1 = '2026-11-20'
			WHERE id IN (SELECT id FROM service_instances WHERE ccg_code = '16C' AND state = 'active' ORDER BY id LIMIT $1)`, services)
		exec(`UPDATE tracker_returns SET status = 'submitted', submitted_at = '2026-11-02 09:00Z', version = version + 1
			WHERE id IN (SELECT id FROM tracker_returns WHERE period = '2026-10-01' AND status = 'issued' ORDER BY id LIMIT $1)`, returns)
		exec(`INSERT INTO outbox (dedupe_key, kind, to_address, subject, body, created_at, next_attempt_at, attempts, last_error)
			SELECT 'k' || g || '-' || $1::int, 'overdue', 'x@example.nhs.uk', 'Late', 'x', now(), now(), 1, 'refused'
			FROM generate_series(1, $1::int) g`, emails)
	}
	work(1, 1, 1)
	few := cost()
	work(30, 40, 25)
	many := cost()
	for _, e := range emails {
		if many[e] != few[e] {
			t.Errorf("%s's dashboard: %d queries with more work, %d with little", e, many[e], few[e])
		}
	}
}
