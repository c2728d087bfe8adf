package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/nightly"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/procurement"
	"ccgtracker/internal/server"
	"ccgtracker/internal/testkit"
	"ccgtracker/internal/tracker"
)

// notPages are the GET routes that serve no HTML page, so axe has nothing
// to check on them, each with what it serves. Every other GET route of
// the table must have an address in pageFixtures: TestEveryPageOfEveryRole
// fails on a route that is on neither list.
var notPages = map[string]string{
	"/healthz":                               "plain text for load balancers",
	"/readyz":                                "plain text for load balancers",
	"/static/*":                              "the tracker's CSS, scripts and images",
	"/assets/*":                              "the NHS.UK design system's files",
	"/orders/{callOffID}/export.csv":         "CSV download",
	"/ccgs/{code}/returns/{period}/download": "XLSX download",
	"/performance.csv":                       "CSV download",
	"/reconciliation/{period}.csv":           "CSV download",
	"/reconciliation/{period}.xlsx":          "XLSX download",
}

// person is someone the sweep opens pages as; an empty email is nobody
// signed in.
type person struct {
	name  string
	email string
	role  auth.Role
}

var people = []person{
	{name: "anonymous"},
	{name: "buyer", email: "buyer.16c@example.nhs.uk", role: auth.Buyer},
	{name: "reviewer", email: "reviewer@example.nhs.uk", role: auth.Reviewer},
	{name: "finance", email: "finance@example.nhs.uk", role: auth.Finance},
	{name: "admin", email: "admin@example.nhs.uk", role: auth.Admin},
}

// opens reports whether the route is a page this person is to be shown:
// the sign-in pages to nobody signed in, every other page to each role it
// admits.
func (p person) opens(rt server.Route) bool {
	if p.email == "" {
		return rt.Public
	}
	return !rt.Public && slices.Contains(rt.Roles, p.role)
}

// TestEveryPageOfEveryRole opens every page of the route table as every
// role that may open it (and the sign-in pages as nobody signed in), each
// with real objects of 16C in its address, then the pages of errors: a
// form of each kind sent with problems, the 404, 403, 409 and 400 pages,
// and the 503 of a database that cannot be reached. axe-core checks each
// at desktop width and at 320 px. One app and one browser serve it all;
// each person has a tab of their own, and the tabs run side by side.
func TestEveryPageOfEveryRole(t *testing.T) {
	t.Parallel()
	base, pool, srv := newAppWithServer(t, nil)
	pages, fx := pageFixtures(t, pool)

	// The table and the fixtures agree: every GET route is a page with an
	// address or a download on the skip list, and nothing else is listed.
	gets := map[string]server.Route{}
	var order []string
	for _, rt := range srv.Routes() {
		if rt.Method != "GET" {
			continue
		}
		gets[rt.Pattern] = rt
		order = append(order, rt.Pattern)
		_, page := pages[rt.Pattern]
		_, skipped := notPages[rt.Pattern]
		switch {
		case page && skipped:
			t.Errorf("GET %s is both a page to check and skipped", rt.Pattern)
		case !page && !skipped:
			t.Errorf("GET %s is in the route table but not checked: give it an address in pageFixtures (or, if it is no HTML page, add it to notPages)", rt.Pattern)
		}
	}
	for pattern := range pages {
		if _, ok := gets[pattern]; !ok {
			t.Errorf("pageFixtures has %s, which is no GET route", pattern)
		}
	}
	for pattern := range notPages {
		if _, ok := gets[pattern]; !ok {
			t.Errorf("notPages has %s, which is no GET route", pattern)
		}
	}
	for _, pattern := range order {
		if _, ok := pages[pattern]; !ok {
			continue
		}
		if !slices.ContainsFunc(people, func(p person) bool { return p.opens(gets[pattern]) }) {
			t.Errorf("GET %s admits none of the people of the sweep", pattern)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// A bound against a hang, not a target: every page twice (1280×720 and
	// 320×640) as each of five people takes a few minutes alone, and several
	// times that on a machine busy with other tests.
	browser := newBrowserFor(t, 12*time.Minute)
	var visits, axeRuns, errorStates atomic.Int64
	check := func(t *testing.T, ctx context.Context, name string) {
		t.Helper()
		checkAccessibilityAtWidths(t, ctx, name)
		axeRuns.Add(2)
	}
	t.Run("sweep", func(t *testing.T) {
		for _, p := range people {
			t.Run(p.name, func(t *testing.T) {
				t.Parallel()
				tab := newTab(t, browser)
				if p.email != "" {
					signIn(t, tab, base, p.email, auth.DemoPassword)
				}
				for _, pattern := range order {
					if !p.opens(gets[pattern]) {
						continue
					}
					for _, path := range pages[pattern] {
						if status := visit(t, tab, base+path); status != 200 {
							t.Errorf("GET %s as %s: status %d, want 200", path, p.name, status)
						}
						if loc := location(t, tab); loc != base+path {
							t.Errorf("GET %s as %s ended at %s", path, p.name, loc)
						}
						visits.Add(1)
						check(t, tab, p.name+" at "+path)
					}
				}
			})
		}

		// errorState opens path (or, with submit, sends its form with
		// the problems filled in) and wants the status and a message.
		type step struct {
			path   string
			fill   map[string]string
			upload string // a file for #file
			submit string // the button to press, "" to only open path
			status int64
			css    string // where the message shows
			want   string
		}
		errorsOf := func(p person, steps []step) func(t *testing.T) {
			return func(t *testing.T) {
				t.Parallel()
				tab := newTab(t, browser)
				if p.email != "" {
					signIn(t, tab, base, p.email, auth.DemoPassword)
				}
				for _, s := range steps {
					status := visit(t, tab, base+s.path)
					if s.submit != "" {
						for id, v := range s.fill {
							fill(t, tab, id, v)
						}
						if s.upload != "" {
							if err := chromedp.Do(tab, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{s.upload})); err != nil {
								t.Fatalf("choose the file: %v", err)
							}
						}
						status = click(t, tab, s.submit)
					}
					if status != s.status {
						t.Errorf("%s as %s: status %d, want %d", s.path, p.name, status, s.status)
					}
					wantContains(t, tab, s.css, s.want)
					errorStates.Add(1)
					check(t, tab, p.name+": "+s.want)
				}
			}
		}
		badUpload := filepath.Join(t.TempDir(), "changes.csv")
		if err := os.WriteFile(badUpload, []byte("Kind,Practice ODS code,Service ID,New service ID,Target practices,Corrects,Date,Note\nActivation,A81001,SI0-A81001,,,,31/02/2020,\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		summary := ".nhsuk-error-summary"
		t.Run("errors/anonymous", errorsOf(people[0], []step{
			{path: "/login", fill: map[string]string{"email": "buyer.03q@example.nhs.uk", "password": "not-the-password"},
				submit: `form[action="/login"] button[type=submit]`, status: 401, css: summary, want: "Enter a correct email address and password"},
			{path: pages["/set-password/{token}"][0], fill: map[string]string{"password": "short", "confirm": "short"},
				submit: "main form button[type=submit]", status: 400, css: summary, want: "Password must be 12 characters or more"},
			{path: "/no-such-page", status: 404, css: "h1", want: "Page not found"},
		}))
		t.Run("errors/buyer", errorsOf(people[1], []step{
			{path: "/orders/new", submit: `form[action="/orders"] button[type=submit]`, status: 400, css: summary, want: "Select a supplier"},
			{path: fx.returnPath + "?practice=A81001#add", submit: "[data-testid=add-line] button[type=submit]", status: 400, css: summary, want: "There is a problem"},
			{path: fx.returnPath, upload: badUpload, submit: `form[action$="/upload"] button[type=submit]`, status: 400, css: summary, want: "The file was not used"},
			{path: fx.procurements[0] + "/prepare", submit: `form[action$="/prepare"] button[type=submit]`, status: 400, css: summary, want: "Select the procedure"},
			{path: fx.draftOrder + "/details", fill: map[string]string{"initial-period": "12", "maximum-term": "12"},
				submit: `form[action$="/details"] button[type=submit]`, status: 400, css: summary, want: "Maximum term must be longer than the initial period"},
			{path: "/ccgs/03Q", status: 404, css: "h1", want: "Page not found"},
			{path: fx.draftOrder + "/terminate", status: 409, css: "h1", want: "This has changed"},
			{path: fx.proposal, submit: "#confirm", fill: map[string]string{"date-day": "31", "date-month": "2"}, status: 422, css: summary, want: "Select the kind of change to report"},
		}))
		t.Run("errors/reviewer", errorsOf(people[2], []step{
			{path: "/admin/users", status: 403, css: "h1", want: "You do not have access to this page"},
			{path: fx.agreement, fill: map[string]string{"start-day": "31", "start-month": "2", "start-year": "2021"},
				submit: `form[action$="/services"] button[type=submit]`, status: 400, css: summary, want: "Start date must be a real date"},
		}))
		t.Run("errors/admin", errorsOf(people[4], []step{
			{path: "/admin/users/new", submit: `form[action="/admin/users"] button[type=submit]`, status: 400, css: summary, want: "Enter the person's full name"},
			{path: "/orders", status: 403, css: "h1", want: "You do not have access to this page"},
			{path: "/admin/users/" + fx.buyerID + "/edit", fill: map[string]string{"name": ""},
				submit: `form[action$="/edit"] button[type=submit]`, status: 400, css: summary, want: "Enter the person's full name"},
			{path: "/admin/audit?from-day=31&from-month=2&from-year=2026", status: 400, css: summary, want: "From date must be a real date"},
			{path: "/admin/returns", fill: map[string]string{"period": "2026-01"},
				submit: `form[action="/admin/returns/issue"] button[type=submit]`, status: 200, css: "[data-testid=issue-warning]", want: "will be late at once"},
			// No file chosen: the upload script leaves the form to post.
			{path: "/admin/imports/ods", submit: "#import", status: 400, css: summary, want: "Choose the CSV file to import"},
		}))
	})

	// Last, once every other tab is done: the database cannot be reached.
	t.Run("unavailable", func(t *testing.T) {
		tab := newTab(t, browser)
		signIn(t, tab, base, "reviewer@example.nhs.uk", auth.DemoPassword)
		outage(t, pool)
		if status := visit(t, tab, base+"/ccgs/16C"); status != 503 {
			t.Errorf("/ccgs/16C with the database down: status %d, want 503", status)
		}
		wantText(t, tab, "h1", "Sorry, the service is unavailable")
		errorStates.Add(1)
		check(t, tab, "the service unavailable page")
	})

	patterns := 0
	for _, pattern := range order {
		if _, ok := pages[pattern]; ok {
			patterns++
		}
	}
	t.Logf("%d GET routes: %d pages checked, %d skipped (no HTML); %d visits of pages by role, %d error states, %d axe runs (each at desktop and 320 px)",
		len(order), patterns, len(notPages), visits.Load(), errorStates.Load(), axeRuns.Load())
}

// outage makes the app's database refuse connections and cuts those it
// has, as pool_test.go's TestDatabaseOutageGivesTheUnavailablePage does;
// the test's end lets them in again.
func outage(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	door := testkit.DoorOf(t, pool, os.Getenv("TEST_DATABASE_URL"))
	door.Shut()
	door.CutAll()
	pool.Reset() // forget the connections that were cut
}

// sweepObjects are the objects of the fixtures the error states use.
type sweepObjects struct {
	returnPath   string   // 16C's return for this month, a draft with lines
	draftOrder   string   // an order in progress, with an item and practices
	agreement    string   // a continuity agreement of 16C
	procurements []string // one at each step: Prepare open, Review, Evaluate, Award, Manage
	buyerID      string   // the buyer of 16C, whose user an admin edits
	proposal     string   // an ODS proposal on 16C's return for this month
}

// pageFixtures builds the objects the pages show, all of 16C so that its
// buyer may open them, and returns the addresses to open for each GET
// route pattern: more than one where one page has several states worth
// checking.
func pageFixtures(t *testing.T, pool *pgxpool.Pool) (map[string][]string, sweepObjects) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	scope := org.AllCCGs()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var adminID, buyerID, otherBuyerID int64
	must(pool.QueryRow(ctx, `SELECT id FROM users WHERE email = 'admin@example.nhs.uk'`).Scan(&adminID))
	must(pool.QueryRow(ctx, `SELECT id FROM users WHERE email = 'buyer.16c@example.nhs.uk'`).Scan(&buyerID))
	must(pool.QueryRow(ctx, `SELECT id FROM users WHERE email = 'buyer.03q@example.nhs.uk'`).Scan(&otherBuyerID))

	// A completed order with a planned service, and this month's return
	// issued (scene, of the return test).
	period := tracker.PeriodOf(dates.Today(now))
	planned, live := scene(t, ctx, pool, period)
	var completed string
	must(pool.QueryRow(ctx, `SELECT call_off_id FROM orders ORDER BY id LIMIT 1`).Scan(&completed))

	// An order in progress: an item with its funding and two practices.
	start := dates.AddMonths(dates.Today(now), 1).AddDate(0, 0, 1-dates.Today(now).Day())
	orders := order.NewStore(pool, func() time.Time { return now })
	o, err := orders.Create(ctx, org.UserActor(buyerID, scope), order.Details{CCGCode: "16C", SupplierID: "10000",
		Description: "Emis Web GP for two practices", Commencement: start, InitialPeriod: 12, MaximumTerm: 36})
	must(err)
	draft := o.CallOffID()
	_, err = orders.AddItem(ctx, org.UserActor(buyerID, scope), draft, o.Version, "10000-001")
	must(err)
	o, _ = order.Get(ctx, pool, scope, draft)
	item := o.Items[0].ID
	must(orders.SetFunding(ctx, org.UserActor(buyerID, scope), draft, o.Version, item, 1))
	o, _ = order.Get(ctx, pool, scope, draft)
	must(orders.SaveRecipients(ctx, org.UserActor(buyerID, scope), draft, o.Version, item,
		[]order.RecipientInput{{Practice: "A81001", PlannedDelivery: &start}, {Practice: "A81004", PlannedDelivery: &start}}))

	// This month's return with two lines, a draft; last month's with a
	// line, submitted, for the reviewer's pages and the versions.
	addLine := func(p tracker.Period, in tracker.LineInput) {
		t.Helper()
		r, err := tracker.Get(ctx, pool, scope, "16C", p)
		must(err)
		must(tracker.NewStore(pool, testkit.NewClock(now).Now).AddLine(ctx, org.UserActor(buyerID, scope), "16C", p, r.Version, in))
	}
	addLine(period, tracker.LineInput{Kind: tracker.Activation, Practice: "A81002", Instance: planned, Date: period.First()})
	addLine(period, tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: live, Date: period.First().AddDate(0, 0, 1)})
	last := period.Prev()
	_, err = tracker.NewStore(pool, testkit.NewClock(now).Now).Issue(ctx, org.System(), last)
	must(err)
	var other string
	must(pool.QueryRow(ctx, `SELECT 'SI' || id || '-' || practice_code FROM service_instances WHERE agreement_id IS NOT NULL AND practice_code = 'A81004' LIMIT 1`).Scan(&other))
	addLine(last, tracker.LineInput{Kind: tracker.Cessation, Practice: "A81004", Instance: other, Date: last.First().AddDate(0, 0, 4)})
	r, err := tracker.Get(ctx, pool, scope, "16C", last)
	must(err)
	must(tracker.NewStore(pool, testkit.NewClock(now).Now).Submit(ctx, org.UserActor(buyerID, scope), "16C", last, r.Version, false))

	// A procurement at each step: the nth has its first n-1 steps done.
	var procs []string
	procurements := procurement.NewStore(pool, func() time.Time { return now })
	proc := func(name string) procurement.Procurement {
		t.Helper()
		p, err := procurements.Create(ctx, org.UserActor(buyerID, scope), "16C", name)
		must(err)
		return p
	}
	get := func(id int64) procurement.Procurement {
		t.Helper()
		p, err := procurement.Get(ctx, pool, scope, id)
		must(err)
		return p
	}
	for n := range 5 {
		p := proc("GP clinical system " + strconv.Itoa(2027+n))
		procs = append(procs, "/procurements/"+strconv.FormatInt(p.ID, 10))
		if n < 1 {
			continue
		}
		must(procurements.Prepare(ctx, org.UserActor(buyerID, scope), p.ID, p.Version, procurement.PrepareInput{
			Procedure: procurement.FurtherCompetitionOn,
			Criteria:  []procurement.CriterionInput{{Row: 1, Name: "Functionality", Weight: "70"}, {Row: 2, Name: "Price", Weight: "30"}},
		}))
		if n < 2 {
			continue
		}
		for _, it := range []string{"10000-001", "10052-002"} {
			_, err := procurements.AddToShortlist(ctx, org.UserActor(buyerID, scope), p.ID, get(p.ID).Version, it)
			must(err)
		}
		must(procurements.CompleteReview(ctx, org.UserActor(buyerID, scope), p.ID, get(p.ID).Version))
		if n < 3 {
			continue
		}
		p = get(p.ID)
		var scores []procurement.ScoreInput
		for i, it := range []string{"10000-001", "10052-002"} {
			for j, c := range p.Criteria {
				scores = append(scores, procurement.ScoreInput{ItemID: it, CriterionID: c.ID, Score: strconv.Itoa(50 + 10*i + 5*j)})
			}
		}
		must(procurements.SaveScores(ctx, org.UserActor(buyerID, scope), p.ID, p.Version, scores, true))
		if n < 4 {
			continue
		}
		p = get(p.ID)
		_, err := procurements.Award(ctx, org.UserActor(buyerID, scope), p.ID, p.Version, procurement.AwardInput{
			ItemID: procurement.DefaultWinner(p), Commencement: start, InitialPeriod: 12, MaximumTerm: 36})
		must(err)
	}

	var agreement, service int64
	must(pool.QueryRow(ctx, `SELECT id FROM continuity_agreements WHERE ccg_code = '16C' ORDER BY id LIMIT 1`).Scan(&agreement))
	id, _, ok := tracker.ParseRef(live)
	if !ok {
		t.Fatalf("%q is no service reference", live)
	}
	service = id
	token, err := auth.NewStore(pool, testkit.NewClock(now).Now).IssuePasswordLink(ctx, org.UserActor(adminID, org.AllCCGs()), otherBuyerID)
	must(err)
	// The month before last, issued and now late everywhere, and the
	// nightly job run: its record on the jobs page, reminders in the
	// outbox and the late banner on the buyer's dashboard.
	_, err = tracker.NewStore(pool, testkit.NewClock(now).Now).Issue(ctx, org.System(), last.Prev())
	must(err)
	_, err = nightly.NewStore(pool, testkit.NewClock(now).Now).Run(ctx, org.UserActor(adminID, org.AllCCGs()), nil)
	must(err)
	// An ODS import that closed a practice with live services (a proposal
	// on this month's return, and an import in the history) and a
	// list-size import.
	closeByODS(t, pool, now, period.First())
	var proposal, odsImport string
	must(pool.QueryRow(ctx, `SELECT id::text, import_id::text FROM practice_proposals WHERE ccg_code = '16C'`).Scan(&proposal, &odsImport))
	sizes, err := org.NewStore(pool, testkit.NewClock(now).Now).ImportListSizes(ctx, org.UserActor(adminID, org.AllCCGs()), "gp-reg-pat-prac-all.csv", strings.NewReader(
		"PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"+
			"GP_PRAC_PAT_LIST,01FEB2021,GP,16C,E38000247,A81001,TS18 1HU,ALL,ALL,4200\nGP_PRAC_PAT_LIST,01FEB2021,GP,16C,E38000247,Z99999,X,ALL,ALL,10\n"))
	must(err)

	cur, prev := "/ccgs/16C/returns/"+period.String(), "/ccgs/16C/returns/"+last.String()
	curReturn, err := tracker.Get(ctx, pool, scope, "16C", period)
	must(err)
	firstLine := cur + "/lines/" + strconv.FormatInt(curReturn.Lines[0].ID, 10)
	orderPath, itemPath := "/orders/"+draft, "/orders/"+draft+"/items/"+strconv.FormatInt(item, 10)
	agreementPath := "/ccgs/16C/agreements/" + strconv.FormatInt(agreement, 10)
	servicePath := "/ccgs/16C/services/" + strconv.FormatInt(service, 10)
	pages := map[string][]string{
		"/login":                       {"/login", "/login?signedout=1"},
		"/set-password/{token}":        {"/set-password/" + token},
		"/":                            {"/"},
		"/account":                     {"/account"},
		"/ccgs":                        {"/ccgs", "/ccgs?q=Tees&region="},
		"/ccgs/{code}":                 {"/ccgs/16C", "/ccgs/16C?q=DENSHAM"},
		"/practices/{code}":            {"/practices/A81001"},
		"/catalogue":                   {"/catalogue"},
		"/catalogue/{id}":              {"/catalogue/10000-001"},
		"/ccgs/{code}/agreements":      {"/ccgs/16C/agreements"},
		"/ccgs/{code}/agreements/{id}": {agreementPath},
		"/ccgs/{code}/services":        {"/ccgs/16C/services", "/ccgs/16C/services?practice=A81001"},
		"/ccgs/{code}/services/{id}":   {servicePath},

		"/orders":                                       {"/orders"},
		"/orders/new":                                   {"/orders/new"},
		"/orders/{callOffID}":                           {orderPath, "/orders/" + completed},
		"/orders/{callOffID}/summary":                   {orderPath + "/summary", "/orders/" + completed + "/summary"},
		"/orders/{callOffID}/details":                   {orderPath + "/details"},
		"/orders/{callOffID}/items/new":                 {orderPath + "/items/new"},
		"/orders/{callOffID}/items/{itemID}":            {itemPath},
		"/orders/{callOffID}/items/{itemID}/recipients": {itemPath + "/recipients"},
		"/orders/{callOffID}/terminate":                 {"/orders/" + completed + "/terminate"},

		"/procurements":      {"/procurements"},
		"/procurements/new":  {"/procurements/new"},
		"/procurements/{id}": procs,
		// Each step's page on the procurement at that step, where its
		// form is open; the last also once every step is done.
		"/procurements/{id}/prepare":   {procs[0] + "/prepare", procs[4] + "/prepare"},
		"/procurements/{id}/shortlist": {procs[1] + "/shortlist", procs[1] + "/shortlist?q=emis"},
		"/procurements/{id}/evaluate":  {procs[2] + "/evaluate"},
		"/procurements/{id}/award":     {procs[3] + "/award"},
		"/procurements/{id}/manage":    {procs[4] + "/manage"},

		"/returns":                            {"/returns", "/returns?period=" + last.String()},
		"/ccgs/{code}/returns":                {"/ccgs/16C/returns"},
		"/ccgs/{code}/returns/{period}":       {cur, cur + "?practice=A81001", prev},
		"/ccgs/{code}/returns/{period}/check": {cur + "/check"},
		// A line's edit and removal pages; a service's own form, planned
		// and live.
		"/ccgs/{code}/returns/{period}/lines/{lineID}/edit":   {firstLine + "/edit"},
		"/ccgs/{code}/returns/{period}/lines/{lineID}/delete": {firstLine + "/delete"},
		"/ccgs/{code}/returns/{period}/services/{ref}/report": {cur + "/services/" + planned + "/report", cur + "/services/" + live + "/report"},
		"/ccgs/{code}/returns/{period}/review":                {cur + "/review", prev + "/review"},
		"/ccgs/{code}/returns/{period}/versions":              {prev + "/versions"},
		"/ccgs/{code}/returns/{period}/proposals/{id}":        {cur + "/proposals/" + proposal},
		"/performance": {"/performance"},

		"/reconciliation":                             {"/reconciliation"},
		"/reconciliation/{period}":                    {"/reconciliation/" + last.String()},
		"/reconciliation/{period}/lines/{instanceID}": {"/reconciliation/" + last.String() + "/lines/" + strconv.FormatInt(service, 10)},
		"/reconciliation/{period}/close":              {"/reconciliation/" + last.String() + "/close"},

		"/admin/users":              {"/admin/users", "/admin/users?q=buyer&role=buyer&ccg=16C&status=active"},
		"/admin/users/new":          {"/admin/users/new"},
		"/admin/users/{id}":         {"/admin/users/" + strconv.FormatInt(buyerID, 10)},
		"/admin/users/{id}/edit":    {"/admin/users/" + strconv.FormatInt(buyerID, 10) + "/edit"},
		"/admin/audit":              {"/admin/audit", "/admin/audit?type=return&object=16C/" + last.String()},
		"/admin/ccgs/{code}":        {"/admin/ccgs/16C"},
		"/admin/returns":            {"/admin/returns"},
		"/admin/jobs":               {"/admin/jobs"},
		"/admin/outbox":             {"/admin/outbox"},
		"/admin/imports":            {"/admin/imports"},
		"/admin/imports/list-sizes": {"/admin/imports/list-sizes"},
		"/admin/imports/ods":        {"/admin/imports/ods"},
		"/admin/imports/{id}":       {"/admin/imports/" + odsImport, "/admin/imports/" + strconv.FormatInt(sizes.ImportID, 10)},
	}
	return pages, sweepObjects{returnPath: cur, draftOrder: orderPath, agreement: agreementPath, procurements: procs,
		buyerID: strconv.FormatInt(buyerID, 10), proposal: cur + "/proposals/" + proposal}
}
