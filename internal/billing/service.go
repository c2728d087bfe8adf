package billing

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/money"
	"ccgtracker/internal/postgres"
)

// Service serves reconciliation without recomputing it: an open month is
// computed once per input version (billing_inputs, bumped by a trigger in
// the same transaction as every change to what a line reads; migration
// 000007) and kept in memory until the version moves; a closed month is
// read from its frozen billing_lines, summed in SQL. The server holds one
// (server.New).
//
// Memory: an open month keeps each line in a compact form (monthLine,
// about 100 bytes, its texts interned), so November 2026 of the national
// data (7,700 lines) takes about 0.8 MB and of the ×10 copy (77,000
// lines) about 8 MB; the cache keeps at most cacheEntries results (months
// and charts), and drops those of older versions as soon as a newer one
// is stored: at most about 50 MB at ×10.
//
// A month missing from the cache is computed once however many requests
// ask for it at once (the others wait for it), in one read-only
// REPEATABLE READ transaction: one pool connection, and the version and
// the lines of one snapshot.
//
// It also carries out billing's one command, Close, which writes
// billing_months and billing_lines, taking the time from its clock.
type Service struct {
	pool *pgxpool.Pool
	now  func() time.Time

	mu      sync.Mutex
	lru     *list.List // of *cacheEntry, most recent first
	entries map[cacheKey]*list.Element
	calls   map[cacheKey]*call

	computed atomic.Int64 // results computed, for the tests
}

// cacheEntries is how many results the cache keeps.
const cacheEntries = 6

// computeTimeout bounds a computation, which runs on even if the request
// that started it goes away (others may be waiting for it).
const computeTimeout = 5 * time.Minute

type cacheKey struct {
	what    string // "month" or "chart"
	first   time.Time
	months  string // a chart's months
	version int64
}

type cacheEntry struct {
	key   cacheKey
	value any
}

type call struct {
	done  chan struct{}
	value any
	err   error
}

// NewService returns a Service on the pool with an empty cache, taking
// the time from now.
func NewService(pool *pgxpool.Pool, now func() time.Time) *Service {
	return &Service{pool: pool, now: now, lru: list.New(), entries: map[cacheKey]*list.Element{}, calls: map[cacheKey]*call{}}
}

// Version is the input version now.
func (s *Service) Version(ctx context.Context) (int64, error) {
	return readVersion(ctx, s.pool)
}

func readVersion(ctx context.Context, db postgres.Querier) (int64, error) {
	var v int64
	if err := db.QueryRow(ctx, `SELECT version FROM billing_inputs`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reconciliation input version: %w", err)
	}
	return v, nil
}

// cached returns the value under key, computing it once (compute returns
// the version it actually saw, under which the value is kept).
func (s *Service) cached(ctx context.Context, key cacheKey, compute func(context.Context, pgx.Tx) (any, int64, error)) (any, error) {
	s.mu.Lock()
	if el, ok := s.entries[key]; ok {
		s.lru.MoveToFront(el)
		s.mu.Unlock()
		return el.Value.(*cacheEntry).value, nil
	}
	c, running := s.calls[key]
	if !running {
		c = &call{done: make(chan struct{})}
		s.calls[key] = c
		go s.run(ctx, key, c, compute)
	}
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.value, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Service) run(ctx context.Context, key cacheKey, c *call, compute func(context.Context, pgx.Tx) (any, int64, error)) {
	s.computed.Add(1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), computeTimeout)
	defer cancel()
	var version int64
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		c.value, version, err = compute(ctx, tx)
		return err
	})
	c.err = err
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.calls, key)
	close(c.done)
	if err != nil {
		return
	}
	key.version = version
	// Entries of older versions can never be asked for again by a request
	// that has read the newer one: drop them now, not at eviction.
	for el := s.lru.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*cacheEntry); e.key.version < version {
			s.lru.Remove(el)
			delete(s.entries, e.key)
		}
		el = next
	}
	if _, ok := s.entries[key]; !ok {
		s.entries[key] = s.lru.PushFront(&cacheEntry{key: key, value: c.value})
	}
	for s.lru.Len() > cacheEntries {
		el := s.lru.Back()
		s.lru.Remove(el)
		delete(s.entries, el.Value.(*cacheEntry).key)
	}
}

// Month is one month's reconciliation as the cache keeps it: its totals,
// the filters' choices and its number of lines, unfiltered; and for an
// open month its lines, compactly.
type Month struct {
	First   time.Time
	Version int64
	Closed  bool
	Count   int

	BySupplier, ByCCG []Totals // by code
	All               Totals
	Choices           Choices

	lines   []monthLine // an open month's, in the order Each gives them
	strings []string    // the texts lines name by number

	// A closed month's lines, read into lines the first time it is
	// exported (its page reads them by LIMIT and OFFSET instead).
	frozenOnce sync.Once
	frozenErr  error
}

// Choices are the values a month's lines offer each filter, by label.
type Choices struct {
	Suppliers, CCGs, Products []Choice
}

// Choice is one value of a filter: "EMIS Health (10000)".
type Choice struct{ Value, Label string }

// Month returns the month starting first, from the cache when the inputs
// have not changed since it was computed.
func (s *Service) Month(ctx context.Context, first time.Time) (*Month, error) {
	v, err := s.Version(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.cached(ctx, cacheKey{what: "month", first: first, version: v}, func(ctx context.Context, tx pgx.Tx) (any, int64, error) {
		m, err := computeMonth(ctx, tx, first)
		if err != nil {
			return nil, 0, err
		}
		return m, m.Version, nil
	})
	if err != nil {
		return nil, err
	}
	return m.(*Month), nil
}

// computeMonth reads a month in one snapshot: a closed month's sums in
// SQL, an open month's lines through the engine, once.
func computeMonth(ctx context.Context, tx pgx.Tx, first time.Time) (*Month, error) {
	v, err := readVersion(ctx, tx)
	if err != nil {
		return nil, err
	}
	closed, err := isClosed(ctx, tx, first)
	if err != nil {
		return nil, err
	}
	m := &Month{First: first, Version: v, Closed: closed}
	if closed {
		if err := frozenSums(ctx, tx, first, Filter{}, m, true); err != nil {
			return nil, err
		}
		return m, nil
	}
	in := newInterner()
	var t tally
	choices := map[string]bool{}
	choose := func(list *[]Choice, kind, value, name string) {
		if !choices[kind+value] {
			choices[kind+value] = true
			*list = append(*list, Choice{Value: value, Label: name + " (" + value + ")"})
		}
	}
	err = Each(ctx, tx, first, Filter{}, func(l Line) error {
		m.lines = append(m.lines, in.compact(l))
		t.add(l)
		choose(&m.Choices.Suppliers, "s", l.SupplierID, l.SupplierName)
		choose(&m.Choices.CCGs, "c", l.CCGCode, l.CCGName)
		choose(&m.Choices.Products, "p", l.ProductID, l.ProductName)
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.strings = in.strings
	m.Count = len(m.lines)
	m.BySupplier, m.ByCCG, m.All = t.result()
	m.Choices.sort()
	m.lines = slices.Clip(m.lines)
	return m, nil
}

func (c *Choices) sort() {
	byLabel := func(a, b Choice) int { return strings.Compare(a.Label, b.Label) }
	for _, l := range []*[]Choice{&c.Suppliers, &c.CCGs, &c.Products} {
		slices.SortFunc(*l, byLabel)
	}
}

// Page is what a month's page shows: the totals and the number of the
// lines that pass the filter, the page of them asked for, and the
// filters' choices (from every line).
type Page struct {
	Month             *Month
	BySupplier, ByCCG []Totals
	All               Totals
	Count             int
	Lines             []Line
}

// Page returns the month's lines that pass f, limit of them from offset,
// and their totals: for an open month in one pass over the cached lines,
// with no query; for a closed month from SQL (the unfiltered sums from
// the cache, the page by LIMIT and OFFSET).
func (s *Service) Page(ctx context.Context, first time.Time, f Filter, offset, limit int) (Page, error) {
	m, err := s.Month(ctx, first)
	if err != nil {
		return Page{}, err
	}
	p := Page{Month: m}
	if m.Closed {
		if f == (Filter{}) {
			p.BySupplier, p.ByCCG, p.All, p.Count = m.BySupplier, m.ByCCG, m.All, m.Count
		} else {
			var sums Month
			if err := frozenSums(ctx, s.pool, first, f, &sums, false); err != nil {
				return Page{}, err
			}
			p.BySupplier, p.ByCCG, p.All, p.Count = sums.BySupplier, sums.ByCCG, sums.All, sums.Count
		}
		if limit > 0 && offset < p.Count {
			err = frozenPage(ctx, s.pool, first, f, offset, limit, func(l Line) error {
				p.Lines = append(p.Lines, l)
				return nil
			})
		}
		return p, err
	}
	if f == (Filter{}) {
		p.BySupplier, p.ByCCG, p.All, p.Count = m.BySupplier, m.ByCCG, m.All, m.Count
		for i := offset; i < min(offset+limit, m.Count); i++ {
			p.Lines = append(p.Lines, m.line(i))
		}
		return p, nil
	}
	var t tally
	for i := range m.lines {
		if !m.keeps(f, &m.lines[i]) {
			continue
		}
		l := m.line(i)
		t.add(l)
		if p.Count >= offset && p.Count < offset+limit {
			p.Lines = append(p.Lines, l)
		}
		p.Count++
	}
	p.BySupplier, p.ByCCG, p.All = t.result()
	return p, nil
}

// EachLine calls fn with every line of m in order: an open month's from
// memory, holding no connection while fn writes them out; a closed
// month's from its frozen lines as they are read.
//
// A closed month's frozen lines are read into memory the first time it
// is exported (once, in one snapshot, on one connection), so an export
// holds no connection while it writes and the next ones read no line.
func (s *Service) EachLine(ctx context.Context, m *Month, fn func(Line) error) error {
	if m.Closed {
		m.frozenOnce.Do(func() { m.frozenErr = s.loadFrozen(ctx, m) })
		if m.frozenErr == errStale {
			return frozen(ctx, s.pool, m.First, fn)
		}
		if m.frozenErr != nil {
			return m.frozenErr
		}
	}
	for i := range m.lines {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(m.line(i)); err != nil {
			return err
		}
	}
	return nil
}

// errStale is a closed month's lines that changed since its entry was
// made (a name a line shows was changed): they are streamed, not kept.
var errStale = errors.New("the month's inputs changed")

func (s *Service) loadFrozen(ctx context.Context, m *Month) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), computeTimeout)
	defer cancel()
	in := newInterner()
	var lines []monthLine
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		v, err := readVersion(ctx, tx)
		if err != nil {
			return err
		}
		if v != m.Version {
			return errStale
		}
		return frozen(ctx, tx, m.First, func(l Line) error {
			lines = append(lines, in.compact(l))
			return nil
		})
	})
	if err != nil {
		return err
	}
	m.lines, m.strings = slices.Clip(lines), in.strings
	return nil
}

// InstanceLines are one service's lines in the month.
func (s *Service) InstanceLines(ctx context.Context, first time.Time, id int64) ([]Line, error) {
	m, err := s.Month(ctx, first)
	if err != nil {
		return nil, err
	}
	var out []Line
	if m.Closed {
		err := frozenWhere(ctx, s.pool, first, `b.instance_id = $2`, []any{id}, func(l Line) error {
			out = append(out, l)
			return nil
		})
		return out, err
	}
	for i := range m.lines {
		if m.lines[i].inst == id {
			out = append(out, m.line(i))
		}
	}
	return out, nil
}

// tally adds lines up by supplier, by CCG and overall, as they pass.
type tally struct {
	suppliers, ccgs map[string]*Totals
	all             Totals
}

func (t *tally) add(l Line) {
	if t.suppliers == nil {
		t.suppliers, t.ccgs = map[string]*Totals{}, map[string]*Totals{}
	}
	one := func(m map[string]*Totals, code, name string) {
		tt, ok := m[code]
		if !ok {
			tt = &Totals{Code: code, Name: name}
			m[code] = tt
		}
		tt.addLine(l)
	}
	one(t.suppliers, l.SupplierID, l.SupplierName)
	one(t.ccgs, l.CCGCode, l.CCGName)
	t.all.addLine(l)
}

func (t *Totals) addLine(l Line) {
	switch {
	case l.Kind == KindAdjustment:
		t.Adjustments += l.Amount
	case l.Payable:
		t.Payable += l.Amount
	default:
		t.Held += l.Amount
	}
}

// result is the totals by supplier and by CCG, each by code, and of all.
func (t *tally) result() (bySupplier, byCCG []Totals, all Totals) {
	list := func(m map[string]*Totals) []Totals {
		out := make([]Totals, 0, len(m))
		for _, tt := range m {
			out = append(out, *tt)
		}
		slices.SortFunc(out, func(a, b Totals) int { return strings.Compare(a.Code, b.Code) })
		return out
	}
	all = t.all
	all.Code, all.Name = "", "All"
	return list(t.suppliers), list(t.ccgs), all
}

// monthLine is a Line as an open month keeps it: numbers, and its texts
// as indexes into the month's interned strings.
type monthLine struct {
	inst, price, amount                                             int64
	m1, m2, cessation, corrects                                     int32 // days since 1970 + 1; 0 for none
	quantity                                                        int32
	source, ccg, ccgName, practice, practiceName, supplier          int32
	supplierName, product, productName, productType, unit, timeUnit int32
	chargedTimeUnit                                                 int32
	listDate                                                        int32 // the extract's day, as m1; 0 for none
	daysCharged, daysInMonth                                        uint8
	kind                                                            uint8
	payable                                                         bool
	perPatient                                                      bool
}

var kinds = []string{KindCharge, KindRelease, KindAdjustment}

type interner struct {
	index   map[string]int32
	strings []string
}

func newInterner() *interner { return &interner{index: map[string]int32{}} }

func (in *interner) of(s string) int32 {
	if i, ok := in.index[s]; ok {
		return i
	}
	i := int32(len(in.strings))
	in.strings = append(in.strings, s)
	in.index[s] = i
	return i
}

func dayNumber(t *time.Time) int32 {
	if t == nil {
		return 0
	}
	return int32(t.Unix()/86400) + 1
}

func dayOf(n int32) *time.Time {
	if n == 0 {
		return nil
	}
	t := time.Unix(int64(n-1)*86400, 0).UTC()
	return &t
}

func (in *interner) compact(l Line) monthLine {
	return monthLine{
		inst: l.InstanceID, price: int64(l.Price), amount: int64(l.Amount),
		m1: dayNumber(l.ActualM1), m2: dayNumber(l.M2), cessation: dayNumber(l.Cessation), corrects: dayNumber(l.Corrects),
		quantity: int32(l.Quantity),
		source:   in.of(l.Source), ccg: in.of(l.CCGCode), ccgName: in.of(l.CCGName), practice: in.of(l.PracticeCode),
		practiceName: in.of(l.PracticeName), supplier: in.of(l.SupplierID), supplierName: in.of(l.SupplierName),
		product: in.of(l.ProductID), productName: in.of(l.ProductName), productType: in.of(l.ProductType),
		unit: in.of(l.Unit), timeUnit: in.of(l.TimeUnit), chargedTimeUnit: in.of(l.Charged.TimeUnit),
		daysCharged: uint8(l.DaysCharged), daysInMonth: uint8(l.DaysInMonth),
		kind: uint8(slices.Index(kinds, l.Kind)), payable: l.Payable,
		listDate: dayNumber(l.Charged.ListDate), perPatient: l.Charged.PerPatient,
	}
}

// line is the month's i-th line in full.
func (m *Month) line(i int) Line {
	c := &m.lines[i]
	s := m.strings
	l := Line{
		Kind: kinds[c.kind], Period: m.First, Corrects: dayOf(c.corrects), InstanceID: c.inst,
		Source: s[c.source], CCGCode: s[c.ccg], CCGName: s[c.ccgName], PracticeCode: s[c.practice], PracticeName: s[c.practiceName],
		SupplierID: s[c.supplier], SupplierName: s[c.supplierName], ProductID: s[c.product], ProductName: s[c.productName],
		ProductType: s[c.productType], Unit: s[c.unit], TimeUnit: s[c.timeUnit], Quantity: int(c.quantity),
		Price: money.Amount(c.price), DaysCharged: int(c.daysCharged), DaysInMonth: int(c.daysInMonth),
		Amount: money.Amount(c.amount), Payable: c.payable, ActualM1: dayOf(c.m1), M2: dayOf(c.m2), Cessation: dayOf(c.cessation),
	}
	l.InstanceRef = instanceRef(l.InstanceID, l.PracticeCode)
	l.Charged = Charged{UnitPrice: l.Price, TimeUnit: s[c.chargedTimeUnit], Quantity: l.Quantity, ActualM1: l.ActualM1, M2: l.M2, Cessation: l.Cessation,
		PerPatient: c.perPatient, ListDate: dayOf(c.listDate)}
	return l
}

// keeps is Filter.keeps on a compact line, without building the Line.
func (m *Month) keeps(f Filter, c *monthLine) bool {
	return f.admits(m.strings[c.supplier], m.strings[c.ccg], m.strings[c.product], c.payable)
}
