package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/org"
	"ccgtracker/internal/testkit"
)

// The isolation sweep (issue 12, standing test 1): every route of the
// table, as every role, aimed at objects of CCG 03Q, by GET and by a
// same-origin form POST. A buyer of 16C asking for 03Q's objects gets the
// same 404 as for objects that do not exist; a role the route does not
// admit gets 403 (or is sent to sign in); no refused answer shows 03Q's
// data; and the database holds exactly what it held before.
//
// The buyer of 03Q, the reviewer, finance and admin are the controls: the
// routes they are admitted to serve them the same objects (so the 404s
// are refusals, not objects the sweep failed to make), and the POSTs they
// are admitted to are not sent (they would change things by right).

// sweepScope is what a case's address names, which decides who is served.
type sweepScope int

const (
	// unscoped names no CCG's object a buyer could reach: lists, forms,
	// pages of roles that see every CCG. Whoever is admitted is served.
	unscoped sweepScope = iota
	// foreign names 03Q's objects: its buyer and the overseers admitted
	// are served, a buyer of 16C gets 404.
	foreign
	// mixed is a 16C address with a 03Q object inside it (16C's order
	// with 03Q's item): 404 for everyone admitted.
	mixed
	// bodyForeign is a 16C address whose form names a 03Q object (one of
	// its practices, one of its services): refused by everyone admitted,
	// with a 4xx and nothing saved.
	bodyForeign
)

func (s sweepScope) String() string {
	return [...]string{"unscoped", "foreign", "mixed", "body-foreign"}[s]
}

type sweepCase struct {
	scope  sweepScope
	params map[string]string // pattern parameter → value
	form   url.Values        // the POST body (nil: an empty form)
	file   string            // with form, sent as a file upload (multipart)
}

// sweepFixture is what the sweep aims at: 03Q's objects, 16C's own (for
// the mixed cases), and the strings that must never reach a buyer of 16C.
type sweepFixture struct {
	order, item, orderVersion          string // 03Q's draft order and its item
	ownOrder, ownItem, ownOrderVersion string // 16C's
	procurement, procurementVersion    string // 03Q's
	returnVersion, ownReturnVersion    string // November 2026's returns
	line                               string // a change line on 03Q's return
	agreement, ownAgreement            string
	service, serviceRef, practice      string // an active 03Q service and its practice
	ownPractice                        string
	user                               string // 03Q's buyer
	proposal, importID                 string // an ODS proposal to 03Q, an import of the history
	token                              string // a set-password link for a 03Q user
	secrets                            []string
}

const (
	sweepPeriod      = "2026-11"
	sweepReconPeriod = "2026-10"
	// sweepMarker is written into every 03Q object that takes free text.
	sweepMarker = "Quokka-03Q-isolation"
)

// sweepMissing is, for each value the sweep fills a parameter with, one
// of the same form that names nothing: a refused request's 404 must read
// like that one's.
func (f *sweepFixture) missing() map[string]string {
	return map[string]string{
		"03Q": "Z9Z", f.order: "C999999-01", f.item: "999999999", f.procurement: "999999999",
		f.line: "999999999", f.agreement: "999999999", f.service: "999999999", f.practice: "Z99999",
		f.proposal: "999999999",
	}
}

func newSweepFixture(t *testing.T, app *returnApp, buyer03Q, buyer16C *client) *sweepFixture {
	t.Helper()
	ctx := context.Background()
	f := &sweepFixture{}
	q := func(dst *string, query string, args ...any) {
		t.Helper()
		if err := app.pool.QueryRow(ctx, query, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	var ccgName, practiceName string
	q(&ccgName, `SELECT name FROM ccgs WHERE code = '03Q'`)

	// 03Q's draft order with one item, and 16C's.
	mkOrder := func(c *client, desc string) (string, string) {
		path := newOrder(t, c, url.Values{"description": {desc}})
		resp := c.post(path+"/items", url.Values{"version": {versionOf(t, c, path+"/items/new")}, "item": {"10000-001"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add item to %s: %d", path, resp.StatusCode)
		}
		loc := resp.Header.Get("Location")
		return strings.TrimPrefix(path, "/orders/"), loc[strings.LastIndex(loc, "/")+1:]
	}
	f.order, f.item = mkOrder(buyer03Q, "Order of "+sweepMarker)
	f.ownOrder, f.ownItem = mkOrder(buyer16C, "Order of 16C")
	q(&f.orderVersion, `SELECT version::text FROM orders WHERE ccg_code = '03Q'`)
	q(&f.ownOrderVersion, `SELECT version::text FROM orders WHERE ccg_code = '16C'`)

	path := newProcurement(t, buyer03Q, url.Values{"name": {"Procurement of " + sweepMarker}})
	f.procurement = strings.TrimPrefix(path, "/procurements/")
	q(&f.procurementVersion, `SELECT version::text FROM procurements WHERE id = $1`, f.procurement)

	q(&f.agreement, `SELECT min(id)::text FROM continuity_agreements WHERE ccg_code = '03Q'`)
	q(&f.ownAgreement, `SELECT min(id)::text FROM continuity_agreements WHERE ccg_code = '16C'`)
	q(&f.practice, `SELECT practice_code FROM service_instances WHERE ccg_code = '03Q' AND state = 'active' ORDER BY id LIMIT 1`)
	q(&f.service, `SELECT id::text FROM service_instances WHERE practice_code = $1 AND state = 'active' ORDER BY id LIMIT 1`, f.practice)
	f.serviceRef = "SI" + f.service + "-" + f.practice
	q(&practiceName, `SELECT name FROM practices WHERE code = $1`, f.practice)
	f.ownPractice = app.practice

	// A change line on 03Q's November return, with the marker in its note.
	ret := "/ccgs/03Q/returns/" + sweepPeriod
	resp := buyer03Q.post(ret+"/lines", url.Values{"version": {versionOf(t, buyer03Q, ret)}, "kind": {"cessation"},
		"instance": {f.serviceRef}, "date-day": {"20"}, "date-month": {"11"}, "date-year": {"2026"}, "note": {"Note of " + sweepMarker}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add a line to 03Q's return: %d %s", resp.StatusCode, doc(t, resp).Find(".nhsuk-error-summary").Text())
	}
	q(&f.line, `SELECT l.id::text FROM return_lines l JOIN tracker_returns r ON r.id = l.return_id WHERE r.ccg_code = '03Q'`)
	q(&f.returnVersion, `SELECT version::text FROM tracker_returns WHERE ccg_code = '03Q' AND period = '2026-11-01'`)
	q(&f.ownReturnVersion, `SELECT version::text FROM tracker_returns WHERE ccg_code = '16C' AND period = '2026-11-01'`)

	q(&f.user, `SELECT id::text FROM users WHERE email = 'buyer.03q@example.nhs.uk'`)
	// A proposal to 03Q (as an ODS closure makes) and an import of the history.
	q(&f.importID, `INSERT INTO imports (kind, file_name, imported_at, counts, report) VALUES ('ods', 'epraccur.csv', now(), '{}', '{}') RETURNING id::text`)
	q(&f.proposal, `INSERT INTO practice_proposals (ccg_code, practice_code, change, detail, effective_date, made_at, import_id)
		VALUES ('03Q', $1, 'closed', '2026-11-30', '2026-12-01', now(), $2) RETURNING id::text`, f.practice, f.importID)
	var admin int64
	if err := app.pool.QueryRow(ctx, `SELECT id FROM users WHERE email = 'admin@example.nhs.uk'`).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	users := auth.NewStore(app.pool, testkit.NewClock(app.now).Now)
	u, err := users.CreateUser(ctx, org.UserActor(admin, org.AllCCGs()), auth.NewUser{Email: "new.03q@example.nhs.uk", Name: "New Buyer", Role: auth.Buyer, CCGCode: "03Q"})
	if err != nil {
		t.Fatal(err)
	}
	if f.token, err = users.IssuePasswordLink(ctx, org.UserActor(admin, org.AllCCGs()), u.ID); err != nil {
		t.Fatal(err)
	}
	f.secrets = []string{sweepMarker, ccgName, practiceName}
	return f
}

// sweepCases is how the sweep fills each route of the table. A route
// missing here fails the test: add its cases when you add the route.
func sweepCases(f *sweepFixture) map[string][]sweepCase {
	p := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	un := func(kv ...string) []sweepCase { return []sweepCase{{scope: unscoped, params: p(kv...)}} }
	unForm := func(form url.Values, kv ...string) []sweepCase {
		return []sweepCase{{scope: unscoped, params: p(kv...), form: form}}
	}
	// An order route: on 03Q's order, and (with an item) on 16C's order
	// with 03Q's item.
	orderForm := func(extra url.Values) url.Values {
		form := url.Values{"version": {f.orderVersion}}
		for k, v := range extra {
			form[k] = v
		}
		return form
	}
	ord := func(form url.Values) []sweepCase {
		return []sweepCase{{scope: foreign, params: p("callOffID", f.order), form: orderForm(form)}}
	}
	item := func(form url.Values) []sweepCase {
		own := orderForm(form)
		own.Set("version", f.ownOrderVersion)
		return []sweepCase{
			{scope: foreign, params: p("callOffID", f.order, "itemID", f.item), form: orderForm(form)},
			{scope: mixed, params: p("callOffID", f.ownOrder, "itemID", f.item), form: own},
		}
	}
	proc := func(form url.Values) []sweepCase {
		full := url.Values{"version": {f.procurementVersion}}
		for k, v := range form {
			full[k] = v
		}
		return []sweepCase{{scope: foreign, params: p("id", f.procurement), form: full}}
	}
	ret := func(form url.Values) []sweepCase {
		full := url.Values{"version": {f.returnVersion}}
		for k, v := range form {
			full[k] = v
		}
		return []sweepCase{{scope: foreign, params: p("code", "03Q", "period", sweepPeriod), form: full}}
	}
	cessation := url.Values{"kind": {"cessation"}, "instance": {f.serviceRef}, "date-day": {"25"}, "date-month": {"11"},
		"date-year": {"2026"}, "note": {"swept"}}
	addService := url.Values{"practice": {f.practice}, "item": {"10000-002"}, "start-day": {"1"}, "start-month": {"11"}, "start-year": {"2026"}}
	cancel := url.Values{"cancel-practice": {f.practice}, "cancel-date-day": {"30"}, "cancel-date-month": {"11"}, "cancel-date-year": {"2026"}}
	agreement := func(form url.Values) []sweepCase {
		return []sweepCase{
			{scope: foreign, params: p("code", "03Q", "id", f.agreement), form: form},
			{scope: mixed, params: p("code", "16C", "id", f.agreement), form: form},
		}
	}
	changes := changesHeader + "cessation," + f.practice + "," + f.serviceRef + ",,,,2026-11-25,swept\n"
	withFile := func(cs []sweepCase, file string) []sweepCase {
		for i := range cs {
			cs[i].file = file
		}
		return cs
	}
	withV := func(v string, form url.Values) url.Values {
		out := url.Values{"version": {v}}
		for k, vs := range form {
			out[k] = vs
		}
		return out
	}

	return map[string][]sweepCase{
		"GET /healthz":                     un(),
		"GET /readyz":                      un(),
		"GET /static/*":                    un("*", "app.css"),
		"GET /assets/*":                    un("*", "images/favicon.svg"),
		"GET /login":                       un(),
		"POST /login":                      unForm(url.Values{"email": {"buyer.03q@example.nhs.uk"}, "password": {"not-the-password"}}),
		"POST /logout":                     un(),
		"POST /session/extend":             un(),
		"GET /set-password/{token}":        un("token", f.token),
		"POST /set-password/{token}":       unForm(url.Values{"password": {"a new long password"}, "confirm": {"a new long password"}}, "token", f.token),
		"GET /":                            un(),
		"GET /account":                     un(),
		"GET /ccgs":                        un(),
		"GET /ccgs/{code}":                 {{scope: foreign, params: p("code", "03Q")}},
		"GET /practices/{code}":            {{scope: foreign, params: p("code", f.practice)}},
		"GET /catalogue":                   un(),
		"GET /catalogue/{id}":              un("id", "10000-001"),
		"GET /ccgs/{code}/agreements":      {{scope: foreign, params: p("code", "03Q")}},
		"GET /ccgs/{code}/agreements/{id}": agreement(nil),
		"POST /ccgs/{code}/agreements/{id}/services": append(agreement(addService),
			sweepCase{scope: bodyForeign, params: p("code", "16C", "id", f.ownAgreement), form: addService}),
		"POST /ccgs/{code}/agreements/{id}/cancellations": append(agreement(cancel),
			sweepCase{scope: bodyForeign, params: p("code", "16C", "id", f.ownAgreement), form: cancel}),
		"GET /ccgs/{code}/services": {{scope: foreign, params: p("code", "03Q")}},
		"GET /ccgs/{code}/services/{id}": {
			{scope: foreign, params: p("code", "03Q", "id", f.service)},
			{scope: mixed, params: p("code", "16C", "id", f.service)},
		},

		"GET /orders":                        un(),
		"GET /orders/new":                    un(),
		"POST /orders":                       unForm(url.Values{"ccg": {"03Q"}, "supplier": {"10000"}, "description": {"swept"}}),
		"GET /orders/{callOffID}":            ord(nil),
		"GET /orders/{callOffID}/summary":    ord(nil),
		"GET /orders/{callOffID}/export.csv": ord(nil),
		"GET /orders/{callOffID}/details":    ord(nil),
		"POST /orders/{callOffID}/details": ord(url.Values{"supplier": {"10000"}, "description": {"Changed by the sweep"},
			"commencement-day": {"1"}, "commencement-month": {"12"}, "commencement-year": {"2026"}, "initial-period": {"12"}, "maximum-term": {"36"}}),
		"GET /orders/{callOffID}/items/new":               ord(nil),
		"POST /orders/{callOffID}/items":                  ord(url.Values{"item": {"10000-002"}}),
		"GET /orders/{callOffID}/items/{itemID}":          item(nil),
		"POST /orders/{callOffID}/items/{itemID}/funding": item(url.Values{"funding": {"1"}}),
		"POST /orders/{callOffID}/items/{itemID}/practices": append(item(url.Values{"practice": {f.practice}}),
			sweepCase{scope: bodyForeign, params: p("callOffID", f.ownOrder, "itemID", f.ownItem),
				form: url.Values{"version": {f.ownOrderVersion}, "practice": {f.practice}}}),
		"POST /orders/{callOffID}/items/{itemID}/upload": append(withFile(item(nil), f.practice+"\n"),
			sweepCase{scope: bodyForeign, params: p("callOffID", f.ownOrder, "itemID", f.ownItem),
				form: url.Values{"version": {f.ownOrderVersion}}, file: f.practice + "\n"}),
		"GET /orders/{callOffID}/items/{itemID}/recipients": item(nil),
		"POST /orders/{callOffID}/items/{itemID}/recipients": item(url.Values{"practice": {f.practice},
			"delivery-" + f.practice + "-day": {"4"}, "delivery-" + f.practice + "-month": {"1"}, "delivery-" + f.practice + "-year": {"2027"}}),
		"POST /orders/{callOffID}/items/{itemID}/delete": item(nil),
		"POST /orders/{callOffID}/complete":              ord(nil),
		"POST /orders/{callOffID}/amend":                 ord(nil),
		"GET /orders/{callOffID}/terminate":              ord(nil),
		"POST /orders/{callOffID}/terminate": ord(url.Values{"reason": {"Swept"}, "termination-day": {"1"},
			"termination-month": {"1"}, "termination-year": {"2027"}}),

		"GET /procurements":              un(),
		"GET /procurements/new":          un(),
		"POST /procurements":             unForm(url.Values{"ccg": {"03Q"}, "name": {"swept"}}),
		"GET /procurements/{id}":         proc(nil),
		"GET /procurements/{id}/prepare": proc(nil),
		"POST /procurements/{id}/prepare": proc(url.Values{"procedure": {"further_competition_off"}, "criterion-1-name": {"Price"},
			"criterion-1-weight": {"100"}}),
		"GET /procurements/{id}/shortlist":           proc(nil),
		"POST /procurements/{id}/shortlist":          proc(url.Values{"item": {"10000-001"}}),
		"POST /procurements/{id}/shortlist/remove":   proc(url.Values{"item": {"10000-001"}}),
		"POST /procurements/{id}/shortlist/complete": proc(nil),
		"GET /procurements/{id}/evaluate":            proc(nil),
		"POST /procurements/{id}/evaluate":           proc(url.Values{"action": {"complete"}}),
		"GET /procurements/{id}/award":               proc(nil),
		"POST /procurements/{id}/award":              proc(url.Values{"item": {"10000-001"}}),
		"GET /procurements/{id}/manage":              proc(nil),
		"POST /procurements/{id}/manage":             proc(nil),

		"GET /returns":                      un(),
		"GET /ccgs/{code}/returns":          {{scope: foreign, params: p("code", "03Q")}},
		"GET /ccgs/{code}/returns/{period}": ret(nil),
		"POST /ccgs/{code}/returns/{period}/lines": append(ret(cessation),
			sweepCase{scope: bodyForeign, params: p("code", "16C", "period", sweepPeriod), form: withV(f.ownReturnVersion, cessation)}),
		"POST /ccgs/{code}/returns/{period}/lines/{lineID}/delete": {
			{scope: foreign, params: p("code", "03Q", "period", sweepPeriod, "lineID", f.line), form: url.Values{"version": {f.returnVersion}}},
			{scope: mixed, params: p("code", "16C", "period", sweepPeriod, "lineID", f.line), form: url.Values{"version": {f.ownReturnVersion}}},
		},
		// A line and a service of 03Q, through 03Q's return and through the
		// buyer's own (mixed): not found either way.
		"GET /ccgs/{code}/returns/{period}/lines/{lineID}/edit": {
			{scope: foreign, params: p("code", "03Q", "period", sweepPeriod, "lineID", f.line)},
			{scope: mixed, params: p("code", "16C", "period", sweepPeriod, "lineID", f.line)},
		},
		"POST /ccgs/{code}/returns/{period}/lines/{lineID}/edit": {
			{scope: foreign, params: p("code", "03Q", "period", sweepPeriod, "lineID", f.line), form: withV(f.returnVersion, cessation)},
			{scope: mixed, params: p("code", "16C", "period", sweepPeriod, "lineID", f.line), form: withV(f.ownReturnVersion, cessation)},
		},
		"GET /ccgs/{code}/returns/{period}/lines/{lineID}/delete": {
			{scope: foreign, params: p("code", "03Q", "period", sweepPeriod, "lineID", f.line)},
			{scope: mixed, params: p("code", "16C", "period", sweepPeriod, "lineID", f.line)},
		},
		"GET /ccgs/{code}/returns/{period}/services/{ref}/report": {
			{scope: foreign, params: p("code", "03Q", "period", sweepPeriod, "ref", f.serviceRef)},
			{scope: mixed, params: p("code", "16C", "period", sweepPeriod, "ref", f.serviceRef)},
		},
		"POST /ccgs/{code}/returns/{period}/services/{ref}/report": {
			{scope: foreign, params: p("code", "03Q", "period", sweepPeriod, "ref", f.serviceRef), form: withV(f.returnVersion, cessation)},
			{scope: mixed, params: p("code", "16C", "period", sweepPeriod, "ref", f.serviceRef), form: withV(f.ownReturnVersion, cessation)},
		},
		"GET /ccgs/{code}/returns/{period}/check":    ret(nil),
		"POST /ccgs/{code}/returns/{period}/submit":  ret(nil),
		"POST /ccgs/{code}/returns/{period}/nil":     ret(nil),
		"GET /ccgs/{code}/returns/{period}/download": ret(nil),
		"POST /ccgs/{code}/returns/{period}/upload": append(withFile(ret(nil), changes),
			sweepCase{scope: bodyForeign, params: p("code", "16C", "period", sweepPeriod),
				form: url.Values{"version": {f.ownReturnVersion}}, file: changes}),
		"GET /ccgs/{code}/returns/{period}/review":   ret(nil),
		"POST /ccgs/{code}/returns/{period}/return":  ret(url.Values{"comment": {"Swept"}}),
		"POST /ccgs/{code}/returns/{period}/accept":  ret(nil),
		"GET /ccgs/{code}/returns/{period}/versions": ret(nil),
		"GET /ccgs/{code}/returns/{period}/proposals/{id}": {
			{scope: foreign, params: p("code", "03Q", "period", sweepPeriod, "id", f.proposal)},
			{scope: mixed, params: p("code", "16C", "period", sweepPeriod, "id", f.proposal)},
		},
		"POST /ccgs/{code}/returns/{period}/proposals/{id}/confirm": {
			{scope: foreign, params: p("code", "03Q", "period", sweepPeriod, "id", f.proposal), form: url.Values{"version": {f.returnVersion},
				"kind": {"cessation"}, "date-day": {"1"}, "date-month": {"12"}, "date-year": {"2026"}}},
			{scope: mixed, params: p("code", "16C", "period", sweepPeriod, "id", f.proposal), form: url.Values{"version": {f.ownReturnVersion},
				"kind": {"cessation"}, "date-day": {"1"}, "date-month": {"12"}, "date-year": {"2026"}}},
		},
		"POST /ccgs/{code}/returns/{period}/proposals/{id}/dismiss": {
			{scope: foreign, params: p("code", "03Q", "period", sweepPeriod, "id", f.proposal), form: url.Values{"version": {f.returnVersion}, "reason": {"Swept"}}},
			{scope: mixed, params: p("code", "16C", "period", sweepPeriod, "id", f.proposal), form: url.Values{"version": {f.ownReturnVersion}, "reason": {"Swept"}}},
		},
		"GET /performance":     un(),
		"GET /performance.csv": un(),

		"GET /reconciliation":                             un(),
		"GET /reconciliation/{period}":                    un("period", sweepReconPeriod),
		"GET /reconciliation/{period}/lines/{instanceID}": un("period", sweepReconPeriod, "instanceID", f.service),
		"GET /reconciliation/{period}.csv":                un("period", sweepReconPeriod),
		"GET /reconciliation/{period}.xlsx":               un("period", sweepReconPeriod),
		"GET /reconciliation/{period}/close":              un("period", sweepReconPeriod),
		"POST /reconciliation/{period}/close":             un("period", sweepReconPeriod),

		"GET /admin/users":                     un(),
		"GET /admin/users/new":                 un(),
		"POST /admin/users":                    unForm(url.Values{"name": {"Mallory"}, "email": {"mallory@example.nhs.uk"}, "role": {"buyer"}, "ccg": {"03Q"}}),
		"GET /admin/users/{id}":                un("id", f.user),
		"GET /admin/users/{id}/edit":           un("id", f.user),
		"POST /admin/users/{id}/edit":          unForm(url.Values{"name": {"Mallory"}, "role": {"admin"}, "ccg": {""}}, "id", f.user),
		"POST /admin/users/{id}/deactivate":    un("id", f.user),
		"POST /admin/users/{id}/reactivate":    un("id", f.user),
		"POST /admin/users/{id}/password-link": un("id", f.user),
		"GET /admin/audit":                     un(),
		"GET /admin/ccgs/{code}":               un("code", "03Q"),
		"POST /admin/ccgs/{code}":              unForm(url.Values{"due-day": {"5"}}, "code", "03Q"),
		"GET /admin/returns":                   un(),
		"POST /admin/returns/issue":            unForm(url.Values{"period": {"2026-12"}}),
		"GET /admin/jobs":                      un(),
		"POST /admin/jobs/run":                 un(),
		"GET /admin/outbox":                    un(),
		"GET /admin/imports":                   un(),
		"GET /admin/imports/list-sizes":        un(),
		"POST /admin/imports/list-sizes":       withFile(unForm(url.Values{}), "PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\nGP_PRAC_PAT_LIST,01DEC2026,GP,03Q,E38000000,"+f.practice+",X,ALL,ALL,1\n"),
		"GET /admin/imports/ods":               un(),
		"POST /admin/imports/ods":              withFile(unForm(url.Values{}), "\n"),
		"GET /admin/imports/{id}":              un("id", f.importID),
	}
}

var sweepParam = regexp.MustCompile(`\{[A-Za-z]+\}|\*`)

// fill puts the case's values into the pattern; with missing, each value
// that names an object is swapped for one that names nothing.
func fill(t *testing.T, pattern string, params map[string]string, missing map[string]string) string {
	t.Helper()
	return sweepParam.ReplaceAllStringFunc(pattern, func(m string) string {
		name := strings.Trim(m, "{}")
		v, ok := params[name]
		if !ok {
			t.Fatalf("%s: no value for %s", pattern, m)
		}
		if w, ok := missing[v]; ok && missing != nil {
			v = w
		}
		return url.PathEscape(v)
	})
}

// tableFingerprints is an md5 of every row of every table, by table.
// Sessions and failed sign-ins are left out: signing in and being refused
// a sign-in are what change them, by design.
func tableFingerprints(t *testing.T, app *testApp) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := app.pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
		AND tablename NOT IN ('sessions', 'login_failures') ORDER BY tablename`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	out := map[string]string{}
	for _, tb := range tables {
		var sum *string
		q := fmt.Sprintf(`SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) || ':' || count(*) FROM %q t`, tb)
		if err := app.pool.QueryRow(ctx, q).Scan(&sum); err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
		if sum == nil {
			out[tb] = "empty"
		} else {
			out[tb] = *sum
		}
	}
	return out
}

// mainText is the page's main content, spaces collapsed, with each of the
// given values written as {} so that two 404s for different addresses
// can be compared.
func mainText(body string, values []string) string {
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		return body
	}
	s := strings.Join(strings.Fields(d.Find("main").Text()), " ")
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	for _, v := range values {
		if v != "" {
			s = strings.ReplaceAll(s, v, "{}")
		}
	}
	return s
}

func TestIsolationSweep(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer03Q := app.clientAs("buyer.03q@example.nhs.uk")
	buyer16C := app.clientAs("buyer.16c@example.nhs.uk")
	fx := newSweepFixture(t, app, buyer03Q, buyer16C)
	cases := sweepCases(fx)
	missing := fx.missing()

	// Every route of the table has cases, and every case a route.
	routes := app.srv.routes()
	inTable := map[string]bool{}
	for _, rt := range routes {
		key := rt.method + " " + rt.pattern
		inTable[key] = true
		if len(cases[key]) == 0 {
			t.Errorf("%s has no case in the isolation sweep: add one to sweepCases", key)
		}
	}
	for key := range cases {
		if !inTable[key] {
			t.Errorf("the sweep has cases for %s, which is not in the route table", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	type role struct {
		name  string
		email string
		user  *auth.User // what access checks; nil: nobody signed in
		owner bool       // the buyer of the objects' CCG
	}
	roles := []role{
		{"anonymous", "", nil, false},
		{"buyer-16C", "buyer.16c@example.nhs.uk", &auth.User{Role: auth.Buyer, CCGCode: "16C"}, false},
		{"buyer-03Q", "buyer.03q@example.nhs.uk", &auth.User{Role: auth.Buyer, CCGCode: "03Q"}, true},
		{"reviewer", "reviewer@example.nhs.uk", &auth.User{Role: auth.Reviewer}, false},
		{"finance", "finance@example.nhs.uk", &auth.User{Role: auth.Finance}, false},
		{"admin", "admin@example.nhs.uk", &auth.User{Role: auth.Admin}, false},
	}
	kinds := map[string]bool{}
	for _, cs := range cases {
		for _, c := range cs {
			for name := range c.params {
				kinds[name] = true
			}
		}
	}

	var sent, refusedRole, refused404, refusedForm, served, notSent, leaksChecked atomic.Int64
	before := tableFingerprints(t, app.testApp)

	t.Run("sweep", func(t *testing.T) {
		for _, rl := range roles {
			t.Run(rl.name, func(t *testing.T) {
				t.Parallel()
				c := app.client()
				c.t = t
				if rl.email != "" {
					c.signIn(rl.email)
				}
				send := func(method, path string, form url.Values, file string) (*http.Response, string) {
					t.Helper()
					if method == http.MethodPost && form == nil {
						form = url.Values{}
					}
					var resp *http.Response
					if file != "" && method == http.MethodPost {
						resp = c.upload(path, form.Get("version"), "sweep.csv", []byte(file))
					} else {
						resp = c.do(method, path, form)
					}
					b, err := io.ReadAll(resp.Body)
					if err != nil {
						t.Fatal(err)
					}
					sent.Add(1)
					return resp, string(b)
				}
				for _, rt := range routes {
					for _, sc := range cases[rt.method+" "+rt.pattern] {
						path := fill(t, rt.pattern, sc.params, nil)
						what := fmt.Sprintf("%s %s (%s) as %s", rt.method, path, sc.scope, rl.name)
						admitted := rt.access.allows(rl.user)
						var want string // "role", "404", "4xx", "served", or "" for not sent
						switch {
						case !admitted:
							want = "role"
						case sc.scope == mixed:
							want = "404"
						case sc.scope == bodyForeign:
							if rt.method == http.MethodPost {
								want = "4xx"
							}
						case sc.scope == foreign && rl.user != nil && rl.user.Role == auth.Buyer && !rl.owner:
							want = "404"
						case rt.method == http.MethodGet:
							want = "served"
						}
						if want == "" {
							notSent.Add(1)
							continue
						}
						resp, body := send(rt.method, path, sc.form, sc.file)
						loc := resp.Header.Get("Location")
						switch want {
						case "role":
							signIn := strings.HasPrefix(loc, "/login?next=")
							if rl.user == nil && rt.method == http.MethodGet && (resp.StatusCode != http.StatusSeeOther || !signIn) {
								t.Errorf("%s: %d %q, want to be sent to sign in", what, resp.StatusCode, loc)
							} else if (rl.user != nil || rt.method != http.MethodGet) && resp.StatusCode != http.StatusForbidden {
								t.Errorf("%s: %d %q, want 403", what, resp.StatusCode, loc)
							} else {
								refusedRole.Add(1)
							}
						case "404":
							if resp.StatusCode != http.StatusNotFound {
								t.Errorf("%s: %d %q, want 404", what, resp.StatusCode, loc)
								break
							}
							// The same page as for objects that do not exist.
							mpath := fill(t, rt.pattern, sc.params, missing)
							mresp, mbody := send(rt.method, mpath, sc.form, sc.file)
							var values []string
							for k, v := range missing {
								values = append(values, k, v)
							}
							if mresp.StatusCode != http.StatusNotFound {
								t.Errorf("%s: the missing twin %s answered %d, want 404", what, mpath, mresp.StatusCode)
							} else if a, b := mainText(body, values), mainText(mbody, values); a != b {
								t.Errorf("%s: the 404 differs from a missing object's:\n%s\n---\n%s", what, a, b)
							} else {
								refused404.Add(1)
							}
						case "4xx":
							if resp.StatusCode < 400 || resp.StatusCode >= 500 {
								t.Errorf("%s: %d %q, want it refused with a 4xx", what, resp.StatusCode, loc)
							} else {
								refusedForm.Add(1)
							}
						case "served":
							// 409 is the object there in a state the page is not
							// for (terminating a draft): reached all the same.
							if resp.StatusCode >= 400 && resp.StatusCode != http.StatusConflict || strings.HasPrefix(loc, "/login") {
								t.Errorf("%s: %d %q, want it served (the control that the object exists)", what, resp.StatusCode, loc)
							} else {
								served.Add(1)
							}
						}
						// Nothing of 03Q's reaches a buyer of another CCG or
						// anyone not signed in, and no refusal carries it.
						if rl.user == nil || (rl.user.Role == auth.Buyer && !rl.owner) {
							leaksChecked.Add(1)
							low := strings.ToLower(body + " " + loc)
							for _, s := range fx.secrets {
								if i := strings.Index(low, strings.ToLower(s)); i >= 0 {
									t.Errorf("%s: the answer (%d) contains %q: …%s…", what, resp.StatusCode, s, body[max(0, i-200):min(len(body), i+100)])
								}
							}
						}
					}
				}
			})
		}
	})

	after := tableFingerprints(t, app.testApp)
	var changed []string
	for tb, sum := range before {
		if after[tb] != sum {
			changed = append(changed, tb)
		}
	}
	sort.Strings(changed)
	if len(changed) > 0 {
		t.Errorf("the sweep changed %s", strings.Join(changed, ", "))
	}
	t.Logf("routes %d, roles %d, object kinds %d (%s), tables compared %d; requests %d: refused by role %d, "+
		"404 as for a missing object %d, refused form naming another CCG's object %d, served to those admitted %d; "+
		"allowed POSTs not sent %d; answers checked for 03Q's data %d",
		len(routes), len(roles), len(kinds), strings.Join(sortedKeys(kinds), " "), len(before), sent.Load(),
		refusedRole.Load(), refused404.Load(), refusedForm.Load(), served.Load(), notSent.Load(), leaksChecked.Load())
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
