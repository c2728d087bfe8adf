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
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/tracker"
)

// planServices makes n of a CCG's live services planned again, by SQL,
// with these planned M1s (one each): however a service came to be
// planned, the return page reads the ledger's state and planned M1.
func (a *returnApp) planServices(ccg string, plannedM1 ...string) []string {
	a.t.Helper()
	if _, err := a.pool.Exec(context.Background(), `
		WITH last AS (
			SELECT id FROM service_instances WHERE ccg_code = $1 AND state = 'active' ORDER BY practice_code DESC, id LIMIT $2),
		picked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM last)
		UPDATE service_instances si SET state = 'planned', actual_m1 = NULL, m2 = NULL, planned_m1 = ($3::date[])[picked.n]
		FROM picked WHERE si.id = picked.id`, ccg, len(plannedM1), plannedM1); err != nil {
		a.t.Fatal(err)
	}
	byM1 := map[string]string{}
	// Read again, in the planned M1s' order, rather than trusting RETURNING's.
	rows, err := a.pool.Query(context.Background(), `
		SELECT 'SI' || id || '-' || practice_code, planned_m1::text FROM service_instances
		WHERE ccg_code = $1 AND state = 'planned' AND planned_m1 = ANY($2::date[])`, ccg, plannedM1)
	if err != nil {
		a.t.Fatal(err)
	}
	var ref, m1 string
	if _, err := pgx.ForEachRow(rows, []any{&ref, &m1}, func() error { byM1[m1] = ref; return nil }); err != nil {
		a.t.Fatal(err)
	}
	refs := make([]string, len(plannedM1))
	for i, d := range plannedM1 {
		if refs[i] = byM1[d]; refs[i] == "" {
			a.t.Fatalf("no planned service of %s on %s", ccg, d)
		}
	}
	return refs
}

// selectOptions are the values of a select's options.
func selectOptions(d *goquery.Document, id string) []string {
	var out []string
	d.Find("select#" + id + " option").Each(func(_ int, o *goquery.Selection) {
		v, _ := o.Attr("value")
		out = append(out, v)
	})
	return out
}

func selected(d *goquery.Document, id string) string {
	v, _ := d.Find("select#" + id + " option[selected]").Attr("value")
	return v
}

func summaryTotal(t *testing.T, d *goquery.Document) string {
	t.Helper()
	return strings.Join(strings.Fields(d.Find("[data-testid=pager-summary]").Text()), " ")
}

// The return's services are filtered by state and by item, alone or with
// the practice search, in SQL: the rows and the counts are those of the
// filter, the pages keep it, and the item select offers only the items of
// this CCG's services in the month.
func TestReturnPageFiltersServices(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	ctx := context.Background()
	planned := app.planServices("16C", "2026-11-10", "2026-11-30", "2026-12-05")
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	var item string
	if err := app.pool.QueryRow(ctx, `SELECT catalogue_item_id FROM service_instances WHERE id = $1`, app.id).Scan(&item); err != nil {
		t.Fatal(err)
	}
	// An item only another CCG's service has: 16C's buyer is never offered it.
	var foreign string
	if err := app.pool.QueryRow(ctx, `
		WITH other AS (SELECT id FROM catalogue_items WHERE id NOT IN (SELECT catalogue_item_id FROM service_instances WHERE ccg_code = '16C') ORDER BY id LIMIT 1)
		UPDATE service_instances SET catalogue_item_id = (SELECT id FROM other)
		WHERE id = (SELECT min(id) FROM service_instances WHERE ccg_code = '03Q' AND state = 'active')
		RETURNING catalogue_item_id`).Scan(&foreign); err != nil {
		t.Fatal(err)
	}

	page := func(t *testing.T, q url.Values) *goquery.Document {
		t.Helper()
		resp := buyer.get(novReturn + "?" + q.Encode())
		wantStatus(t, resp, http.StatusOK)
		return doc(t, resp)
	}
	check := func(t *testing.T, name string, q url.Values, want []string) *goquery.Document {
		t.Helper()
		d := page(t, q)
		if got := serviceRefs(d); !slices.Equal(got, want[:min(25, len(want))]) {
			t.Errorf("%s: lists %v, want %v", name, got, want[:min(25, len(want))])
		}
		if got := summaryTotal(t, d); !strings.Contains(got, " of "+strconv.Itoa(len(want))+" matching") {
			t.Errorf("%s: summary %q, want a total of %d", name, got, len(want))
		}
		return d
	}

	t.Run("planned", func(t *testing.T) {
		d := check(t, "planned", url.Values{"state": {"planned"}}, app.inPeriodRefs("si.state = 'planned'"))
		if got := serviceRefs(d); len(got) != len(planned) {
			t.Errorf("the planned filter lists %v, want the %d planned %v", got, len(planned), planned)
		}
		if selected(d, "state") != "planned" {
			t.Errorf("the state select shows %q", selected(d, "state"))
		}
	})
	active := app.inPeriodRefs("si.state = 'active'")
	if len(active) <= 25 {
		t.Fatalf("16C has %d active services: the test needs more than a page", len(active))
	}
	t.Run("active", func(t *testing.T) { check(t, "active", url.Values{"state": {"active"}}, active) })
	t.Run("item", func(t *testing.T) {
		check(t, "item", url.Values{"item": {item}}, app.inPeriodRefs("si.catalogue_item_id = $1", item))
	})
	t.Run("item and state", func(t *testing.T) {
		check(t, "item and state", url.Values{"item": {item}, "state": {"active"}},
			app.inPeriodRefs("si.catalogue_item_id = $1 AND si.state = 'active'", item))
	})
	t.Run("search, item and state", func(t *testing.T) {
		d := check(t, "search, item and state", url.Values{"q": {app.practice}, "item": {item}, "state": {"active"}},
			app.inPeriodRefs("si.practice_code = $1 AND si.catalogue_item_id = $2 AND si.state = 'active'", app.practice, item))
		if !slices.Contains(serviceRefs(d), app.service) {
			t.Errorf("the combined filter does not find %s", app.service)
		}
		if v, _ := d.Find("input#q").Attr("value"); v != app.practice || selected(d, "item") != item || selected(d, "state") != "active" {
			t.Errorf("the filters hold q=%q item=%q state=%q", v, selected(d, "item"), selected(d, "state"))
		}
	})
	t.Run("finding nothing", func(t *testing.T) {
		d := page(t, url.Values{"state": {"ceased"}})
		if serviceRefs(d) != nil || !strings.Contains(summaryTotal(t, d), "matches ceased") || d.Find("[data-testid=pager-summary] a[href='"+novReturn+"#services']").Text() != "Clear filters" {
			t.Errorf("a filter finding nothing: %q", summaryTotal(t, d))
		}
	})

	// The pages keep the filters, and page 2 is the filter's.
	t.Run("pages keep the filters", func(t *testing.T) {
		d := page(t, url.Values{"state": {"active"}, "item": {item}})
		withItem := app.inPeriodRefs("si.catalogue_item_id = $1 AND si.state = 'active'", item)
		if len(withItem) > 25 {
			next := pageLink(d, "next")
			want := novReturn + "?" + url.Values{"item": {item}, "page": {"2"}, "state": {"active"}}.Encode() + "#services"
			if next != want {
				t.Errorf("next page %q, want %q", next, want)
			}
			if got := serviceRefs(page(t, url.Values{"state": {"active"}, "item": {item}, "page": {"2"}})); !slices.Equal(got, withItem[25:min(50, len(withItem))]) {
				t.Errorf("page 2 lists %v", got)
			}
		}
		d = page(t, url.Values{"state": {"active"}})
		if next := pageLink(d, "next"); next != novReturn+"?page=2&state=active#services" {
			t.Errorf("next page of the active services %q", next)
		}
		if got := serviceRefs(page(t, url.Values{"state": {"active"}, "page": {"2"}})); !slices.Equal(got, active[25:min(50, len(active))]) {
			t.Errorf("page 2 of the active services lists %v, want %v", got, active[25:min(50, len(active))])
		}
	})

	// The item select: exactly the items of 16C's services in November, by name.
	t.Run("the selects' options", func(t *testing.T) {
		d := page(t, url.Values{"state": {"active"}})
		rows, err := app.pool.Query(ctx, `
		SELECT ci.id FROM catalogue_items ci WHERE ci.id IN (
			SELECT catalogue_item_id FROM service_instances si WHERE si.ccg_code = '16C'
			  AND (si.state = 'planned' OR (si.actual_m1 <= '2026-11-30' AND (si.cessation_date IS NULL OR si.cessation_date > '2026-11-01'))))
		ORDER BY ci.name, ci.id`)
		if err != nil {
			t.Fatal(err)
		}
		items, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if got := selectOptions(d, "item"); !slices.Equal(got, append([]string{""}, items...)) {
			t.Errorf("the item select offers %v, want every item and %v", got, items)
		}
		if got := selectOptions(d, "state"); !slices.Equal(got, []string{"", "planned", "active", "ceased"}) {
			t.Errorf("the state select offers %v", got)
		}
	})

	// Another CCG's item, a state that does not exist or cannot be in a
	// return: ignored, every service listed, never a 500.
	all := app.inPeriodRefs("true")
	bad := []url.Values{{"item": {foreign}}, {"state": {"bogus"}}, {"state": {"cancelled"}}, {"state": {"'; DROP TABLE x; --"}}, {"item": {"%"}}}
	for _, q := range bad {
		t.Run("ignored "+q.Encode(), func(t *testing.T) {
			d := page(t, q)
			if got := serviceRefs(d); !slices.Equal(got, all[:25]) || !strings.Contains(summaryTotal(t, d), " of "+strconv.Itoa(len(all))) {
				t.Errorf("%v: lists %v (%q), want every service", q, got, summaryTotal(t, d))
			}
			if strings.Contains(d.Text(), foreign) || selected(d, "item") != "" || selected(d, "state") != "" {
				t.Errorf("%v: the filters show it (item %q, state %q)", q, selected(d, "item"), selected(d, "state"))
			}
		})
	}

	// An NHS form: GET, labelled inputs, a Filter button; Clear filters
	// once something is filtered.
	t.Run("an NHS form", func(t *testing.T) {
		form := page(t, url.Values{}).Find("form[data-testid=service-filters]")
		if m, _ := form.Attr("method"); m != "get" {
			t.Errorf("the filters' form method %q", m)
		}
		for _, id := range []string{"q", "state", "item"} {
			if form.Find("label.nhsuk-label[for="+id+"]").Length() != 1 || form.Find("#"+id).Length() != 1 {
				t.Errorf("the filter %s has no label", id)
			}
		}
		if strings.TrimSpace(form.Find("button[type=submit]").Text()) != "Filter" || form.Find("a").Length() != 0 {
			t.Errorf("the unfiltered form: button %q, %d links", form.Find("button").Text(), form.Find("a").Length())
		}
		form = page(t, url.Values{"state": {"active"}}).Find("form[data-testid=service-filters]")
		if href, _ := form.Find("a").Attr("href"); href != novReturn+"#services" || form.Find("a").Text() != "Clear filters" {
			t.Errorf("the filtered form's link %q %q", form.Find("a").Text(), href)
		}
	})

	// The practices a search of the add-a-change form finds keep the
	// filters, and each is named.
	t.Run("practices found keep the filters", func(t *testing.T) {
		var common string
		if err := app.pool.QueryRow(ctx, `
		SELECT w FROM practices, regexp_split_to_table(name, ' ') w
		WHERE ccg_code = '16C' AND length(w) > 3 GROUP BY w ORDER BY count(*) DESC, w LIMIT 1`).Scan(&common); err != nil {
			t.Fatal(err)
		}
		d := page(t, url.Values{"state": {"active"}, "practice": {strings.ToLower(common)}})
		matches := d.Find("ul[data-testid=practice-matches] a")
		if matches.Length() < 2 {
			t.Fatalf("%s finds %d practices", common, matches.Length())
		}
		matches.Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			if !strings.Contains(href, "state=active") || !strings.HasSuffix(a.Text(), ")") || strings.HasPrefix(a.Text(), "(") {
				t.Errorf("a practice found: %q links to %s", a.Text(), href)
			}
		})
	})
}

// Another CCG's buyer gets no return of 16C's, filtered or not.
func TestReturnPageFiltersOfAnotherCCGAreNotFound(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	other := app.client()
	other.signIn("buyer.03q@example.nhs.uk")
	wantStatus(t, other.get(novReturn+"?state=active&item=x"), http.StatusNotFound)
}

// At the top of an open return its buyers see the planned services due to
// go live by the end of the month (overdue first), each with its Report
// a change, and the requested changes awaiting their date; not December's,
// not another CCG's; a reviewer sees no call to action.
func TestReturnPageShowsWhatNeedsAttention(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	ctx := context.Background()
	due := app.planServices("16C", "2026-11-10", "2026-11-30", "2026-12-05")
	foreign := app.planServices("03Q", "2026-11-20")

	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	d := doc(t, buyer.get(novReturn))
	card := d.Find("[data-testid=return-attention]")
	if card.Length() != 1 || !strings.Contains(card.Find("h2").Text(), "What needs attention this month") {
		t.Fatalf("no attention card: %q", card.Text())
	}
	var listed []string
	card.Find("[data-testid=attention-due] li").Each(func(_ int, li *goquery.Selection) {
		ref := strings.TrimSpace(strings.SplitN(li.Text(), ":", 2)[0])
		listed = append(listed, ref)
		if href, _ := li.Find("a").Attr("href"); href != novReturn+"/services/"+ref+"/report" {
			t.Errorf("%s links to %q", ref, href)
		}
		if !strings.Contains(li.Text(), "(") {
			t.Errorf("%s does not name its practice: %q", ref, li.Text())
		}
	})
	if !slices.Equal(listed, due[:2]) {
		t.Errorf("due to go live: %v, want %v (not %s of December, nor %v of 03Q)", listed, due[:2], due[2], foreign)
	}
	if !strings.Contains(card.Find("li").First().Text(), "Overdue") || strings.Contains(card.Find("li").Eq(1).Text(), "Overdue") {
		t.Errorf("overdue marks: %q", card.Find("li").Text())
	}
	if card.Find("[data-testid=attention-pending]").Length() != 0 {
		t.Error("requested changes shown while none waits")
	}
	href, _ := card.Find("li a").First().Attr("href")
	wantStatus(t, buyer.get(href), http.StatusOK)

	// A requested change of October, accepted, waits for its date.
	oct, _ := tracker.ParsePeriod("2026-10")
	if _, err := tracker.NewStore(app.pool, time.Now).Issue(ctx, org.System(), oct); err != nil {
		t.Fatal(err)
	}
	scope := org.OnlyCCG("16C")
	version := func() int {
		r, err := tracker.Get(ctx, app.pool, scope, "16C", oct)
		if err != nil {
			t.Fatal(err)
		}
		return r.Version
	}
	if err := app.srv.tracker.AddLine(ctx, org.Actor{Scope: scope}, "16C", oct, version(),
		tracker.LineInput{Kind: tracker.Cessation, Practice: app.practice, Instance: app.service, Date: dates.Date(2026, 12, 5)}); err != nil {
		t.Fatal(err)
	}
	if err := app.srv.tracker.Submit(ctx, org.Actor{Scope: scope}, "16C", oct, version(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := app.srv.tracker.Accept(ctx, org.System(), "16C", oct, version()); err != nil {
		t.Fatal(err)
	}
	d = doc(t, buyer.get(novReturn))
	pending := d.Find("[data-testid=return-attention] [data-testid=attention-pending] a")
	if h, _ := pending.Attr("href"); h != "#pending" || !strings.Contains(pending.Text(), "1 requested change waiting") || d.Find("#pending").Length() != 1 {
		t.Errorf("the requested change: %q to %q", pending.Text(), h)
	}

	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	d = doc(t, reviewer.get(novReturn))
	if d.Find("[data-testid=return-attention]").Length() != 0 || strings.Contains(d.Find("main").Text(), "Report a change") {
		t.Error("the reviewer is shown a call to action")
	}
	if d.Find("form[data-testid=service-filters]").Length() != 1 {
		t.Error("the reviewer cannot filter the services")
	}
}

// The return page costs the same queries with 3 planned services due as
// with 40, filtered or not: nothing is read per service or per item.
func TestReturnPageQueriesDoNotGrowWithServices(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	pool, queries := pgtest.Open(t, dbURL, func(*pgxpool.Config) {})
	app := newReturnAppOn(t, pool)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	cost := func(path string) int64 {
		t.Helper()
		before := queries.Count()
		resp := buyer.get(path)
		body := text(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d: %s", path, resp.StatusCode, body)
		}
		return queries.Count() - before
	}
	plan := func(n int) {
		t.Helper()
		if _, err := pool.Exec(context.Background(), `UPDATE service_instances SET state = 'planned', actual_m1 = NULL, m2 = NULL, planned_m1 = '2026-11-20'
			WHERE id IN (SELECT id FROM service_instances WHERE ccg_code = '16C' AND state = 'active' ORDER BY id LIMIT $1)`, n); err != nil {
			t.Fatal(err)
		}
	}
	paths := []string{novReturn, novReturn + "?state=planned", novReturn + "?state=active&q=a&page=2"}
	cost(novReturn) // the first request of a session may settle it
	plan(3)
	var few []int64
	for _, p := range paths {
		few = append(few, cost(p))
	}
	plan(40)
	for i, p := range paths {
		if many := cost(p); many != few[i] {
			t.Errorf("%s: %d queries with 3 planned services, %d with 43", p, few[i], many)
		}
		if few[i] > 20 {
			t.Errorf("%s: %d queries, want at most 20", p, few[i])
		}
	}
	t.Logf("return page queries: %v", few)
}

// Every picker of a service on the return's pages names the service's
// practice, in its option and in its group: the add-a-change form, a
// live service's own form (the new service of a migration), a planned
// service's own form, and a line's edit page.
func TestReturnPickersNameThePractice(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	ctx := context.Background()
	var name string
	if err := app.pool.QueryRow(ctx, `SELECT name FROM practices WHERE code = $1`, app.practice).Scan(&name); err != nil {
		t.Fatal(err)
	}
	// A second service at the practice, planned: the new service a
	// migration of the live one may name.
	var plannedRef string
	if err := app.pool.QueryRow(ctx, `
		INSERT INTO service_instances (ccg_code, practice_code, catalogue_item_id, supplier_id, agreement_id, unit_price, pricing_unit, time_unit,
			quantity_rule, quantity, planned_m1, state, created_at)
		SELECT ccg_code, practice_code, (SELECT id FROM catalogue_items WHERE id <> si.catalogue_item_id ORDER BY id LIMIT 1), supplier_id, agreement_id,
			unit_price, pricing_unit, time_unit, quantity_rule, quantity, '2026-11-25', 'planned', now()
		FROM service_instances si WHERE id = $1
		RETURNING 'SI' || id || '-' || practice_code`, app.id).Scan(&plannedRef); err != nil {
		t.Fatal(err)
	}
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	wantRedirect(t, buyer.post(novReturn+"/lines", app.cessation(versionOf(t, buyer, novReturn), "20")), novReturn)
	var lineID int64
	if err := app.pool.QueryRow(ctx, `SELECT id FROM return_lines`).Scan(&lineID); err != nil {
		t.Fatal(err)
	}
	for page, want := range map[string][]string{
		novReturn + "?practice=" + app.practice:                         {app.service, plannedRef},
		novReturn + "/services/" + app.service + "/report":              {plannedRef},
		novReturn + "/services/" + plannedRef + "/report":               {app.service},
		novReturn + "/lines/" + strconv.FormatInt(lineID, 10) + "/edit": {app.service, plannedRef},
	} {
		t.Run(page, func(t *testing.T) {
			resp := buyer.get(page)
			wantStatus(t, resp, http.StatusOK)
			d := doc(t, resp)
			var offered []string
			d.Find("select option[value^=SI]").Each(func(_ int, o *goquery.Selection) {
				v, _ := o.Attr("value")
				offered = append(offered, v)
				if !strings.Contains(o.Text(), " at "+name) {
					t.Errorf("%s: the option %q does not name the practice %s", page, o.Text(), name)
				}
				if g, _ := o.Parent().Attr("label"); g != name+" ("+app.practice+")" {
					t.Errorf("%s: %s is in the group %q", page, v, g)
				}
			})
			for _, ref := range want {
				if !slices.Contains(offered, ref) {
					t.Errorf("%s offers %v, not %s", page, offered, ref)
				}
			}
		})
	}
}
