package ledger_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/refdata"
	"ccgtracker/internal/testkit"
)

// now is the tests' clock: a Tuesday morning, London and UTC alike.
var now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// A81001 and A81002 are practices of 16C (list sizes 4,100 and 18,917);
// B81036 is a practice of 03Q.
const (
	practice16C  = "A81001"
	practice16C2 = "A81002"
	practice16C3 = "A81004"
	practice03Q  = "B81036"
	emisWeb      = "10000-001"
	emisArrivals = "10000-001A003" // £35.51 per licence per month
	systmOne     = "10052-002"
)

func newUser(t *testing.T, pool *pgxpool.Pool, email, role string) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `INSERT INTO users (email, name, role) VALUES ($1, $2, $3) RETURNING id`,
		email, "User "+email, role).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func count(t *testing.T, db postgres.Querier, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func importFile(t *testing.T, pool *pgxpool.Pool, actor *int64, file string) (ledger.ContinuityReport, error) {
	t.Helper()
	return store(pool).ImportContinuity(context.Background(), org.Actor{ID: actor, Scope: org.AllCCGs()}, strings.NewReader(file))
}

// store is the ledger's store on pool, its clock standing at now.
func store(pool *pgxpool.Pool) *ledger.Store {
	return ledger.NewStore(pool, testkit.NewClock(now).Now)
}

func mustImport(t *testing.T, pool *pgxpool.Pool, file string) ledger.ContinuityReport {
	t.Helper()
	rep, err := importFile(t, pool, nil, file)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

// agreementID is the id of a CCG's agreement with a supplier.
func agreementID(t *testing.T, pool *pgxpool.Pool, ccg, supplier string) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `SELECT id FROM continuity_agreements WHERE ccg_code = $1 AND supplier_id = $2`,
		ccg, supplier).Scan(&id); err != nil {
		t.Fatalf("agreement of %s with %s: %v", ccg, supplier, err)
	}
	return id
}

// storedInstance is a service_instances row as the tests compare it.
type storedInstance struct {
	ID                            int64
	CCG, Practice, Item, Supplier string
	AgreementID                   *int64
	UnitPrice, PricingUnit        string
	TimeUnit                      *string
	QuantityRule                  string
	Quantity                      int
	PlannedM1, ActualM1, M2       *time.Time
	Cessation                     *time.Time
	State                         string
}

func instanceOf(t *testing.T, db postgres.Querier, practice, item string) storedInstance {
	t.Helper()
	var s storedInstance
	err := db.QueryRow(context.Background(), `
		SELECT id, ccg_code, practice_code, catalogue_item_id, supplier_id, agreement_id, unit_price::text, pricing_unit,
		       time_unit, quantity_rule, quantity, planned_m1, actual_m1, m2, cessation_date, state
		FROM service_instances WHERE practice_code = $1 AND catalogue_item_id = $2 ORDER BY id DESC LIMIT 1`, practice, item).
		Scan(&s.ID, &s.CCG, &s.Practice, &s.Item, &s.Supplier, &s.AgreementID, &s.UnitPrice, &s.PricingUnit, &s.TimeUnit,
			&s.QuantityRule, &s.Quantity, &s.PlannedM1, &s.ActualM1, &s.M2, &s.Cessation, &s.State)
	if err != nil {
		t.Fatalf("instance of %s %s: %v", practice, item, err)
	}
	return s
}

// jsonEqual compares a JSON document with the value want would marshal to.
func jsonEqual(t *testing.T, what string, got []byte, want any) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v (%s)", what, err, got)
	}
	b, _ := json.Marshal(want)
	_ = json.Unmarshal(b, &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, b)
	}
}

type historyRow struct {
	ActorID       *int64
	Change        string
	Before, After []byte
}

func historyOf(t *testing.T, db postgres.Querier, id int64) []historyRow {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		SELECT actor_id, change, before, after FROM service_instance_history WHERE instance_id = $1 ORDER BY at, id`, id)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := pgx.CollectRows(rows, pgx.RowToStructByPos[historyRow])
	if err != nil {
		t.Fatal(err)
	}
	return hist
}

func date(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

const goodFile = "\ufeff Practice , SUPPLIER,Item,Start_Date\r\n" +
	"A81001,10000,10000-001,2020-01-01\r\n" +
	" a81002 , 10000 , 10000-001 , 2020-01-01 \r\n" +
	"A81001,10000,10000-001a003,2020-01-01\r\n" +
	"\r\n" +
	"B81036,10052,10052-002,2020-04-01\r\n"

func TestImportContinuity(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	actor := newUser(t, pool, "importer@example.nhs.uk", "admin")

	rep, err := importFile(t, pool, &actor, goodFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ledger.ContinuityReport{Rows: 4, AgreementsCreated: 2, ServicesAdded: 4}); rep != want {
		t.Errorf("report = %+v, want %+v", rep, want)
	}

	emis := agreementID(t, pool, "16C", "10000")
	tpp := agreementID(t, pool, "03Q", "10052")
	var emisStart, tppStart time.Time
	if err := pool.QueryRow(ctx, `SELECT (SELECT start_date FROM continuity_agreements WHERE id = $1),
		(SELECT start_date FROM continuity_agreements WHERE id = $2)`, emis, tpp).Scan(&emisStart, &tppStart); err != nil {
		t.Fatal(err)
	}
	if date(&emisStart) != "2020-01-01" || date(&tppStart) != "2020-04-01" {
		t.Errorf("start dates %s and %s, want 2020-01-01 and 2020-04-01", date(&emisStart), date(&tppStart))
	}

	// Per patient: the list size; per licence: a fixed 1. M1 = M2 = start.
	year, month := "year", "month"
	cases := []struct {
		practice, item string
		want           storedInstance
	}{
		{practice16C, emisWeb, storedInstance{CCG: "16C", Supplier: "10000", AgreementID: &emis, UnitPrice: "1.2600",
			PricingUnit: "testPatient", TimeUnit: &year, QuantityRule: ledger.QuantityListSize, Quantity: 4100}},
		{practice16C2, emisWeb, storedInstance{CCG: "16C", Supplier: "10000", AgreementID: &emis, UnitPrice: "1.2600",
			PricingUnit: "testPatient", TimeUnit: &year, QuantityRule: ledger.QuantityListSize, Quantity: 18917}},
		{practice16C, emisArrivals, storedInstance{CCG: "16C", Supplier: "10000", AgreementID: &emis, UnitPrice: "35.5100",
			PricingUnit: "testLicence", TimeUnit: &month, QuantityRule: ledger.QuantityFixed, Quantity: 1}},
		{practice03Q, systmOne, storedInstance{CCG: "03Q", Supplier: "10052", AgreementID: &tpp, UnitPrice: "1.2600",
			PricingUnit: "testPatient", TimeUnit: &year, QuantityRule: ledger.QuantityListSize}},
	}
	for _, c := range cases {
		got := instanceOf(t, pool, c.practice, c.item)
		want := c.want
		want.ID, want.Practice, want.Item, want.State = got.ID, c.practice, c.item, string(ledger.Active)
		start := emisStart
		if c.practice == practice03Q {
			start = tppStart
			want.Quantity = count(t, pool, `SELECT list_size FROM practices WHERE code = $1`, c.practice)
		}
		want.ActualM1, want.M2 = &start, &start
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s:\n got %+v\nwant %+v", c.practice, c.item, got, want)
		}
		// The bulk insert writes the history CreateTx would.
		hist := historyOf(t, pool, got.ID)
		if len(hist) != 1 || hist[0].ActorID == nil || *hist[0].ActorID != actor || hist[0].Change != "continuity import" || hist[0].Before != nil {
			t.Fatalf("history of %s %s = %+v", c.practice, c.item, hist)
		}
		jsonEqual(t, "history after", hist[0].After, map[string]any{
			"state": "active", "actual_m1": date(&start), "m2": date(&start), "quantity": want.Quantity})
	}
	if n := count(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'agreement.create' AND actor_id = $1`, actor); n != 2 {
		t.Errorf("%d agreement.create audit entries, want 2", n)
	}

	t.Run("again adds nothing", func(t *testing.T) {
		rep, err := importFile(t, pool, &actor, goodFile)
		if err != nil {
			t.Fatal(err)
		}
		if want := (ledger.ContinuityReport{Rows: 4, AlreadyPresent: 4}); rep != want {
			t.Errorf("report = %+v, want %+v", rep, want)
		}
		if !strings.Contains(rep.Summary(), "nothing was added") {
			t.Errorf("summary does not say nothing was added:\n%s", rep.Summary())
		}
		if n := count(t, pool, `SELECT count(*) FROM service_instances`); n != 4 {
			t.Errorf("%d instances, want 4", n)
		}
		if n := count(t, pool, `SELECT count(*) FROM service_instance_history`); n != 4 {
			t.Errorf("%d history rows, want 4", n)
		}
	})

	t.Run("adds to an existing agreement", func(t *testing.T) {
		rep, err := importFile(t, pool, &actor, "practice,supplier,item,start_date\nA81004,10000,10000-001,2020-01-01\nA81001,10000,10000-001,2020-01-01\n")
		if err != nil {
			t.Fatal(err)
		}
		if want := (ledger.ContinuityReport{Rows: 2, ServicesAdded: 1, AlreadyPresent: 1}); rep != want {
			t.Errorf("report = %+v, want %+v", rep, want)
		}
		var after []byte
		if err := pool.QueryRow(ctx, `SELECT after FROM audit_log WHERE action = 'agreement.add_services' AND entity_id = $1`, itoa(emis)).Scan(&after); err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, "audit", after, map[string]any{"services_added": 1, "source": "import"})
	})

	t.Run("ErrStartDateNotTheAgreements", func(t *testing.T) {
		_, err := importFile(t, pool, &actor, "practice,supplier,item,start_date\nA81005,10000,10000-001,2021-01-01\n")
		wantFileError(t, err, "line 2, start_date: CCG 16C's continuity agreement with EMIS Health started on 2020-01-01; the row says 2021-01-01")
	})
}

// wantFileError checks err is an Invalid *ContinuityFileError whose
// listing has every line of want.
func wantFileError(t *testing.T, err error, want ...string) {
	t.Helper()
	var fe *ledger.ContinuityFileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v, want a *ContinuityFileError", err)
	}
	if apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("code %s, want invalid", apperr.CodeOf(err))
	}
	msg := apperr.MessageOf(err)
	for _, w := range want {
		if !strings.Contains(msg, "\n  "+w) {
			t.Errorf("message does not list %q:\n%s", w, msg)
		}
	}
	if len(fe.Errors) != len(want) {
		t.Errorf("%d errors, want %d:\n%s", len(fe.Errors), len(want), msg)
	}
}

func TestImportContinuityBadFiles(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)

	// Every bad file starts with good rows: nothing of them may be applied.
	const head = "practice,supplier,item,start_date\nA81001,10000,10000-001,2020-01-01\nB81036,10052,10052-002,2020-01-01\n"
	cases := []struct {
		name, rows string
		want       []string
	}{
		{"ErrPracticeUnknown", "Z99999,10000,10000-001,2020-01-01",
			[]string{"line 4, practice: unknown practice: no practice in the tracker has the ODS code Z99999"}},
		{"ErrPracticeNotACode", "A8100,10000,10000-001,2020-01-01",
			[]string{`line 4, practice: "A8100" is not a practice ODS code, which is a letter and 5 digits, such as A81001`}},
		{"ErrPracticeEmpty", ",10000,10000-001,2020-01-01",
			[]string{"line 4, practice: is empty; enter the practice's ODS code, such as A81001"}},
		{"ErrSupplierUnknown", "A81002,99999,10000-001,2020-01-01",
			[]string{"line 4, supplier: unknown supplier: no supplier has the id 99999"}},
		{"ErrItemNotInCatalogue", "A81002,10000,10000-999,2020-01-01",
			[]string{"line 4, item: 10000-999 is not in the Buying Catalogue"}},
		{"ErrItemNotSuppliers", "A81002,10000,10052-002,2020-01-01",
			[]string{"line 4, item: 10052-002 (SystmOne GP) is not a service of EMIS Health (10000): it is TPP – The Phoenix Partnership (Leeds) Ltd's (10052)"}},
		{"ErrItemHasNoPrice", "A81002,10029,10029-001,2020-01-01",
			[]string{"line 4, item: 10029-001 (RIVIAM GP Portal) has no catalogue price, so its price cannot be recorded"}},
		{"ErrNotADate", "A81002,10000,10000-001,2020-02-30",
			[]string{`line 4, start_date: "2020-02-30" is not a date; write it as YYYY-MM-DD, such as 2020-01-01`}},
		{"ErrDateInAnotherFormat", "A81002,10000,10000-001,01/01/2020",
			[]string{`line 4, start_date: "01/01/2020" is not a date; write it as YYYY-MM-DD, such as 2020-01-01`}},
		{"ErrDuplicateRow", "a81001,10000,10000-001,2020-01-01",
			[]string{"line 4: a duplicate row: practice A81001 and item 10000-001 are also on line 2; each service may appear only once"}},
		{"ErrStartDatesDiffer", "A81002,10000,10000-001,2020-02-01",
			[]string{"line 4, start_date: line 2 starts CCG 16C's continuity agreement with EMIS Health on 2020-01-01; every row of that agreement must have the same date, not 2020-02-01"}},
		{"ErrNoListSize", "Y07014,10000,10000-001,2020-01-01",
			[]string{"line 4, practice: practice Y07014 has no list size on record, and 10000-001 is priced per patient, so its quantity is not known"}},
		{"ErrWrongColumnCount", "A81002,10000,10000-001",
			[]string{"line 4: the row has 3 values; each row needs 4: practice, supplier, item, start_date"}},
		{"ErrManyRows", "Z99999,10000,10000-001,2020-01-01\nA81002,99999,10052-002,someday",
			[]string{
				"line 4, practice: unknown practice: no practice in the tracker has the ODS code Z99999",
				"line 5, supplier: unknown supplier: no supplier has the id 99999",
				`line 5, start_date: "someday" is not a date; write it as YYYY-MM-DD, such as 2020-01-01`,
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := importFile(t, pool, nil, head+c.rows+"\n")
			wantFileError(t, err, c.want...)
		})
	}

	fileCases := []struct{ name, file, want string }{
		{"ErrEmptyFile", "", "The continuity file is empty. Its first line must be the header practice,supplier,item,start_date."},
		{"ErrHeaderOnly", "practice,supplier,item,start_date\n", "The continuity file has no rows to import, only its header."},
		{"ErrWrongHeader", "ODSCode,Supplier\nA81001,EMIS\n",
			`The continuity file's first line must be the header practice,supplier,item,start_date, but it is "ODSCode,Supplier".`},
	}
	for _, c := range fileCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := importFile(t, pool, nil, c.file)
			if apperr.CodeOf(err) != apperr.Invalid || apperr.MessageOf(err) != c.want {
				t.Errorf("error %v, want Invalid %q", err, c.want)
			}
		})
	}

	for _, table := range []string{"continuity_agreements", "service_instances", "service_instance_history", "audit_log"} {
		if n := count(t, pool, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%d rows in %s after refused imports, want 0", n, table)
		}
	}
}

func TestSeedDemoContinuity(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()

	// What the seed should do, from the mapping and the practices table:
	// each mapped practice the tracker has, with a list size (both GP
	// systems are priced per patient).
	f, err := refdata.FS().Open(ledger.DemoContinuityFile)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var codes, suppliers []string
	for _, r := range recs[1:] {
		codes = append(codes, r[0])
		suppliers = append(suppliers, map[string]string{"EMIS": "10000", "TPP": "10052"}[r[1]])
	}
	var wantServices, wantAgreements int
	if err := pool.QueryRow(ctx, `
		SELECT count(DISTINCT p.code), count(DISTINCT (p.ccg_code, m.supplier))
		FROM unnest($1::text[], $2::text[]) AS m(code, supplier) JOIN practices p ON p.code = m.code
		WHERE p.list_size > 0`, codes, suppliers).Scan(&wantServices, &wantAgreements); err != nil {
		t.Fatal(err)
	}
	if wantServices < 5000 {
		t.Fatalf("only %d mapped practices in the tracker: the test data is not what this test expects", wantServices)
	}

	start := day("2020-01-01")
	var added int
	began := time.Now()
	err = postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		added, err = ledger.SeedDemoContinuity(ctx, tx, now, refdata.FS(), start)
		return err
	})
	took := time.Since(began)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SeedDemoContinuity: %d services, %d agreements in %v", added, wantAgreements, took)
	if took > 5*time.Second {
		t.Errorf("the seed took %v; `tracker seed --demo` needs it in a few seconds", took)
	}
	if added != wantServices {
		t.Errorf("added %d services, want %d", added, wantServices)
	}
	if n := count(t, pool, `SELECT count(*) FROM continuity_agreements WHERE start_date = '2020-01-01'`); n != wantAgreements {
		t.Errorf("%d agreements, want %d", n, wantAgreements)
	}
	if n := count(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'agreement.create' AND actor_id IS NULL`); n != wantAgreements {
		t.Errorf("%d agreement.create audit entries, want %d", n, wantAgreements)
	}
	if n := count(t, pool, `SELECT count(*) FROM service_instance_history h JOIN service_instances si ON si.id = h.instance_id
		WHERE h.before IS NULL AND h.after->>'state' = 'active' AND h.after->>'actual_m1' = '2020-01-01'`); n != wantServices {
		t.Errorf("%d history entries, want one per service (%d)", n, wantServices)
	}
	// A81001 is a TPP practice of 16C in the mapping.
	if got := instanceOf(t, pool, practice16C, systmOne); got.CCG != "16C" || got.State != "active" || date(got.ActualM1) != "2020-01-01" ||
		date(got.M2) != "2020-01-01" || got.Quantity != 4100 || got.QuantityRule != ledger.QuantityListSize {
		t.Errorf("A81001's SystmOne = %+v", got)
	}

	err = postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		added, err = ledger.SeedDemoContinuity(ctx, tx, now, refdata.FS(), start)
		return err
	})
	if err != nil || added != 0 {
		t.Errorf("seeding again added %d (%v), want 0", added, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM service_instances`); n != wantServices {
		t.Errorf("%d instances after seeding twice, want %d", n, wantServices)
	}
}

func TestListAndGetAgreements(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	mustImport(t, pool, goodFile)
	emis := agreementID(t, pool, "16C", "10000")
	tpp := agreementID(t, pool, "03Q", "10052")

	list, err := ledger.ListAgreements(ctx, pool, org.AllCCGs(), "16C")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != emis || list[0].SupplierName != "EMIS Health" || list[0].Services != 3 ||
		date(&list[0].StartDate) != "2020-01-01" || list[0].CCGName == "" {
		t.Errorf("16C's agreements = %+v", list)
	}
	if list, err := ledger.ListAgreements(ctx, pool, org.OnlyCCG("03Q"), "16C"); err != nil || len(list) != 0 {
		t.Errorf("a 03Q buyer sees 16C's agreements: %+v, %v", list, err)
	}
	if a, err := ledger.GetAgreement(ctx, pool, org.OnlyCCG("16C"), "16C", emis); err != nil || a.ID != emis {
		t.Errorf("16C buyer's own agreement: %+v, %v", a, err)
	}
	for name, c := range map[string]struct {
		scope org.Scope
		ccg   string
		id    int64
	}{
		"ErrBuyerOfAnotherCCG":   {org.OnlyCCG("03Q"), "16C", emis},
		"ErrAgreementNotTheCCGs": {org.AllCCGs(), "16C", tpp},
		"ErrNoSuchAgreement":     {org.AllCCGs(), "16C", 999999},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ledger.GetAgreement(ctx, pool, c.scope, c.ccg, c.id); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("%s: error %v, want NotFound", name, err)
			}
		})
	}
	res, err := ledger.ListAgreementServices(ctx, pool, org.AllCCGs(), "16C", emis, paging.Page{Number: 1, Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 3 || len(res.Rows) != 2 {
		t.Errorf("agreement services: total %d, %d rows, want 3 and 2", res.Total, len(res.Rows))
	}
	if res, err := ledger.ListAgreementServices(ctx, pool, org.OnlyCCG("03Q"), "16C", emis, paging.Page{Number: 1, Size: 2}); err != nil || res.Total != 0 {
		t.Errorf("a 03Q buyer sees 16C's agreement services: %+v, %v", res, err)
	}
	if d, err := ledger.PricingUnitDescription(ctx, pool, "testPatient"); err != nil || d != "per patient" {
		t.Errorf("PricingUnitDescription(testPatient) = %q, %v", d, err)
	}
}

func TestAddAgreementService(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	reviewer := newUser(t, pool, "rev@example.nhs.uk", "reviewer")
	mustImport(t, pool, "practice,supplier,item,start_date\nA81001,10000,10000-001,2020-01-01\nB81036,10052,10052-002,2020-01-01\n")
	emis := agreementID(t, pool, "16C", "10000")
	all := org.AllCCGs()

	add := func(scope org.Scope, ccg string, id int64, practice, item, start string) (ledger.Instance, error) {
		var s time.Time
		if start != "" {
			s = day(start)
		}
		return store(pool).AddAgreementService(ctx, org.UserActor(reviewer, scope), ccg, id, ledger.AgreementService{Practice: practice, Item: item, Start: s})
	}

	t.Run("adds", func(t *testing.T) {
		inst, err := add(all, "16C", emis, " a81002 ", emisArrivals, "2021-05-01")
		if err != nil {
			t.Fatal(err)
		}
		if inst.Ref() != "SI"+itoa(inst.ID)+"-A81002" || inst.State != ledger.Active || date(inst.ActualM1) != "2021-05-01" ||
			date(inst.M2) != "2021-05-01" || inst.PlannedM1 != nil || inst.QuantityRule != ledger.QuantityFixed || inst.Quantity != 1 ||
			inst.UnitPrice.String() != "£35.51" || inst.TimeUnit != "month" || inst.AgreementID == nil || *inst.AgreementID != emis {
			t.Errorf("instance = %+v", inst)
		}
		hist := historyOf(t, pool, inst.ID)
		if len(hist) != 1 || hist[0].Change != "added to the continuity agreement" || *hist[0].ActorID != reviewer {
			t.Fatalf("history = %+v", hist)
		}
		jsonEqual(t, "history after", hist[0].After, map[string]any{"state": "active", "actual_m1": "2021-05-01", "m2": "2021-05-01", "quantity": 1})
		var after []byte
		if err := pool.QueryRow(ctx, `SELECT after FROM audit_log WHERE action = 'agreement.add_service' AND entity_id = $1`, itoa(emis)).Scan(&after); err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, "audit", after, map[string]any{"instance": inst.Ref(), "practice": "A81002", "item": emisArrivals, "start": "2021-05-01"})

		// Per patient: the practice's list size; today is allowed.
		inst, err = add(all, "16C", emis, practice16C2, emisWeb, "2026-11-24")
		if err != nil {
			t.Fatal(err)
		}
		if inst.QuantityRule != ledger.QuantityListSize || inst.Quantity != 18917 {
			t.Errorf("per-patient instance: %s %d", inst.QuantityRule, inst.Quantity)
		}
	})

	before := count(t, pool, `SELECT count(*) FROM service_instances`)
	cases := []struct {
		name                  string
		practice, item, start string
		want                  map[string]string
	}{
		{"ErrPracticeMissing", "", emisWeb, "2021-01-01", map[string]string{ledger.FieldPractice: "Enter the practice's ODS code"}},
		{"ErrPracticeUnknown", "Z99999", emisWeb, "2021-01-01", map[string]string{ledger.FieldPractice: "No practice has the ODS code Z99999"}},
		{"ErrPracticeOfAnotherCCG", practice03Q, emisWeb, "2021-01-01", map[string]string{ledger.FieldPractice: "B81036 is not a practice of NHS Tees Valley CCG"}},
		{"ErrItemMissing", practice16C3, "", "2021-01-01", map[string]string{ledger.FieldItem: "Select a service"}},
		{"ErrItemUnknown", practice16C3, "10000-999", "2021-01-01", map[string]string{ledger.FieldItem: "Select a service from the list"}},
		{"ErrItemNotSuppliers", practice16C3, systmOne, "2021-01-01", map[string]string{ledger.FieldItem: "SystmOne GP is not a service of EMIS Health"}},
		{"ErrAlreadyPresent", practice16C, emisWeb, "2021-01-01", map[string]string{ledger.FieldItem: "A81001 already has Emis Web GP in this agreement"}},
		{"ErrStartMissing", practice16C3, emisWeb, "", map[string]string{ledger.FieldStart: "Enter the start date"}},
		{"ErrStartBeforeAgreement", practice16C3, emisWeb, "2019-12-31",
			map[string]string{ledger.FieldStart: "The start date must be on or after the agreement's start date, 1 January 2020"}},
		{"ErrStartInFuture", practice16C3, emisWeb, "2026-11-25", map[string]string{ledger.FieldStart: "The start date must be today or in the past"}},
		{"ErrEverything", "", "", "", map[string]string{ledger.FieldPractice: "Enter the practice's ODS code", ledger.FieldItem: "Select a service", ledger.FieldStart: "Enter the start date"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := add(all, "16C", emis, c.practice, c.item, c.start)
			var e *apperr.Error
			if !errors.As(err, &e) || e.Code != apperr.Invalid || !reflect.DeepEqual(e.Fields, c.want) {
				t.Fatalf("error %v (fields %v), want Invalid %v", err, fieldsOf(err), c.want)
			}
		})
	}
	for name, c := range map[string]struct {
		scope org.Scope
		ccg   string
	}{
		"ErrBuyerOfAnotherCCG":   {org.OnlyCCG("03Q"), "16C"},
		"ErrAgreementNotTheCCGs": {all, "03Q"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := add(c.scope, c.ccg, emis, practice16C3, emisWeb, "2021-01-01"); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("error %v, want NotFound", err)
			}
		})
	}
	if n := count(t, pool, `SELECT count(*) FROM service_instances`); n != before {
		t.Errorf("refused additions left %d instances, want %d", n, before)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func fieldsOf(err error) map[string]string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

func TestRecordAgreementCancellation(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	reviewer := newUser(t, pool, "rev@example.nhs.uk", "reviewer")
	mustImport(t, pool, goodFile)
	emis := agreementID(t, pool, "16C", "10000")
	all := org.AllCCGs()
	cancel := func(scope org.Scope, ccg, practice, d string) (int, error) {
		var dt time.Time
		if d != "" {
			dt = day(d)
		}
		return store(pool).RecordAgreementCancellation(ctx, org.UserActor(reviewer, scope), ccg, emis, ledger.Cancellation{Practice: practice, Date: dt})
	}

	t.Run("today or earlier ends the services now", func(t *testing.T) {
		n, err := cancel(all, "16C", "a81001", "2026-06-30")
		if err != nil || n != 2 {
			t.Fatalf("cancel A81001: %d, %v; want 2 services", n, err)
		}
		for _, item := range []string{emisWeb, emisArrivals} {
			got := instanceOf(t, pool, practice16C, item)
			if got.State != "ceased" || date(got.Cessation) != "2026-06-30" {
				t.Errorf("%s: state %s, cessation %s", item, got.State, date(got.Cessation))
			}
			hist := historyOf(t, pool, got.ID)
			if len(hist) != 2 || hist[1].Change != "cancellation recorded" || *hist[1].ActorID != reviewer {
				t.Fatalf("history = %+v", hist)
			}
			jsonEqual(t, "before", hist[1].Before, map[string]any{"state": "active", "actual_m1": "2020-01-01", "m2": "2020-01-01", "quantity": got.Quantity})
			jsonEqual(t, "after", hist[1].After, map[string]any{"state": "ceased", "actual_m1": "2020-01-01", "m2": "2020-01-01",
				"cessation": "2026-06-30", "quantity": got.Quantity})
		}
		if n := count(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'agreement.cancel_practice' AND actor_id = $1`, reviewer); n != 1 {
			t.Errorf("%d audit entries, want 1", n)
		}
	})

	t.Run("a later date waits for ApplyDueCessations", func(t *testing.T) {
		if n, err := cancel(all, "16C", practice16C2, "2026-12-31"); err != nil || n != 1 {
			t.Fatalf("cancel A81002: %d, %v", n, err)
		}
		got := instanceOf(t, pool, practice16C2, emisWeb)
		if got.State != "active" || date(got.Cessation) != "2026-12-31" {
			t.Fatalf("state %s, cessation %s; want active until 2026-12-31", got.State, date(got.Cessation))
		}
		apply := func(today string) int {
			var n int
			err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
				var err error
				n, err = ledger.ApplyDueCessationsTx(ctx, tx, now, org.System(), day(today))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := apply("2026-12-30"); n != 0 {
			t.Errorf("the day before: %d ended, want 0", n)
		}
		if n := apply("2026-12-31"); n != 1 {
			t.Errorf("on the day: %d ended, want 1", n)
		}
		if n := apply("2027-01-01"); n != 0 {
			t.Errorf("again: %d ended, want 0", n)
		}
		if got := instanceOf(t, pool, practice16C2, emisWeb); got.State != "ceased" {
			t.Errorf("state %s, want ceased", got.State)
		}
	})

	cases := []struct {
		name, practice, date string
		want                 map[string]string
	}{
		{"ErrPracticeMissing", "", "2026-01-01", map[string]string{ledger.FieldCancelPractice: "Enter the practice's ODS code"}},
		{"ErrPracticeUnknown", "Z99999", "2026-01-01", map[string]string{ledger.FieldCancelPractice: "No practice has the ODS code Z99999"}},
		{"ErrPracticeOfAnotherCCG", practice03Q, "2026-01-01", map[string]string{ledger.FieldCancelPractice: "B81036 is not a practice of NHS Tees Valley CCG"}},
		{"ErrNoServices", practice16C3, "2026-01-01", map[string]string{ledger.FieldCancelPractice: "A81004 has no planned or active services in this agreement"}},
		{"ErrAlreadyCeased", practice16C, "2026-01-01", map[string]string{ledger.FieldCancelPractice: "A81001 has no planned or active services in this agreement"}},
		{"ErrDateMissing", "A81005", "", map[string]string{ledger.FieldCancelDate: "Enter the cancellation date"}},
	}
	mustImport(t, pool, "practice,supplier,item,start_date\nA81005,10000,10000-001,2020-01-01\n")
	cases = append(cases, struct {
		name, practice, date string
		want                 map[string]string
	}{"ErrDateBeforeStart", "A81005", "2019-12-31",
		map[string]string{ledger.FieldCancelDate: "The cancellation date must be on or after 1 January 2020, when the practice's services started"}})
	before := count(t, pool, `SELECT count(*) FROM service_instance_history`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := cancel(all, "16C", c.practice, c.date)
			var e *apperr.Error
			if !errors.As(err, &e) || e.Code != apperr.Invalid || !reflect.DeepEqual(e.Fields, c.want) {
				t.Fatalf("error %v (fields %v), want Invalid %v", err, fieldsOf(err), c.want)
			}
		})
	}
	t.Run("ErrBuyerOfAnotherCCG", func(t *testing.T) {
		if _, err := cancel(org.OnlyCCG("03Q"), "16C", "A81005", "2026-01-01"); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("error %v, want NotFound", err)
		}
	})
	if n := count(t, pool, `SELECT count(*) FROM service_instance_history`); n != before {
		t.Errorf("refused cancellations wrote history: %d rows, want %d", n, before)
	}
}
