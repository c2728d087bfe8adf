package tracker

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// Proposed changes (issue 13): what an ODS import found that a CCG must
// report. A practice that closed, or moved to another commissioner, while
// it has planned or live services becomes a proposal on the CCG's open
// return, which the buyer makes into lines (the kind chosen, the date
// filled in) or dismisses with a reason; a practice newly opened in the
// CCG is a note. Each is made once per practice, change and detail
// (practice_proposals' unique key), however often a file is imported.

// The changes a proposal is about.
const (
	ProposalClosed = "closed"
	ProposalMoved  = "moved"
	ProposalOpened = "opened" // a note: nothing to decide
)

// The outcomes of a proposal.
const (
	OutcomeConfirmed = "confirmed"
	OutcomeDismissed = "dismissed"
)

// The fields of a proposal's answers by meaning, the keys of their
// problems: the views map them to their inputs.
const (
	ProposalFieldKind   = "kind"
	ProposalFieldTarget = "target"
	ProposalFieldDate   = "date"
	ProposalFieldReason = "reason"
)

// Proposal is one proposed change, or note, and what became of it.
type Proposal struct {
	ID            int64
	CCGCode       string
	PracticeCode  string
	PracticeName  string
	Change        string // closed, moved, opened
	Detail        string // the close date, the new commissioner, the open date
	EffectiveDate time.Time
	MadeAt        time.Time
	Outcome       string // "", confirmed, dismissed
	OutcomeKind   Kind
	Reason        string
	ReturnID      *int64
	DecidedAt     *time.Time
	DecidedBy     string
}

// IsNote is a proposal with nothing to decide.
func (p Proposal) IsNote() bool { return p.Change == ProposalOpened }

// Kinds is the kinds of line the buyer may make it into.
func (p Proposal) Kinds() []Kind {
	switch p.Change {
	case ProposalClosed:
		return []Kind{Merger, Cessation}
	}
	// A practice that moved belongs to its new CCG, whose practice the
	// old CCG's return may not name: nothing to make a line of.
	return nil
}

// Words says what ODS shows and what to do, as the return shows it:
// "ODS shows ACKLAM MEDICAL CENTRE (A81004) closed on 10 December 2026:
// report a merger or a cessation".
func (p Proposal) Words() string {
	who := p.PracticeName + " (" + p.PracticeCode + ")"
	switch p.Change {
	case ProposalClosed:
		when := ""
		if d, err := time.Parse(time.DateOnly, p.Detail); err == nil {
			when = " on " + dates.Long(d)
		}
		return "ODS shows " + who + " closed" + when + ": report a merger or a cessation"
	case ProposalMoved:
		return "ODS shows " + who + " moved to commissioner " + p.Detail + ": its services here end through their order or agreement; dismiss this once they are dealt with"
	case ProposalOpened:
		when := ""
		if d, err := time.Parse(time.DateOnly, p.Detail); err == nil {
			when = " on " + dates.Long(d)
		}
		return "ODS shows " + who + " opened" + when + " in your CCG: its services come through orders"
	}
	return who
}

// ImportODS runs an ODS import of the file fileName (org.Store.ImportODS)
// and, in its transaction, makes the proposals its changes call for. It
// returns the import's report, its id and how many proposals it made.
func (s *Store) ImportODS(ctx context.Context, a org.Actor, fileName string, r io.Reader) (org.ODSReport, int64, int, error) {
	now := s.now()
	made := 0
	rep, id, err := org.NewStore(s.pool, func() time.Time { return now }).ImportODS(ctx, a, fileName, r, func(ctx context.Context, tx pgx.Tx, importID int64, rep org.ODSReport) (map[string]int, error) {
		var err error
		made, err = propose(ctx, tx, now, a, importID, rep)
		// The history of imports counts the proposals it made too.
		return map[string]int{"proposals": made}, err
	})
	return rep, id, made, err
}

// propose makes the proposals an import's report calls for, in a few
// statements whatever its size, and says how many were new.
func propose(ctx context.Context, tx pgx.Tx, now time.Time, a org.Actor, importID int64, rep org.ODSReport) (int, error) {
	today := dates.Today(now)
	var codes, changes, details, froms []string
	var effective []time.Time
	for _, u := range rep.Updated {
		var closeDate, status, oldCCG, newCCG string
		for _, c := range u.Changes {
			switch c.Field {
			case "close_date":
				closeDate = c.After
			case "status":
				status = c.After
			case "ccg_code":
				oldCCG, newCCG = c.Before, c.After
			}
		}
		if closeDate != "" || status == "C" {
			// The first day without service is the day after the close.
			eff := today
			if closeDate == "" {
				closeDate = "status C"
			} else if d, err := time.Parse(time.DateOnly, closeDate); err == nil {
				eff = d.AddDate(0, 0, 1)
			}
			codes, changes, details, froms, effective = append(codes, u.Code), append(changes, ProposalClosed),
				append(details, closeDate), append(froms, ""), append(effective, eff)
		}
		if newCCG != "" {
			codes, changes, details, froms, effective = append(codes, u.Code), append(changes, ProposalMoved),
				append(details, newCCG), append(froms, oldCCG), append(effective, today)
		}
	}
	for _, p := range rep.Inserted {
		codes, changes, details, froms, effective = append(codes, p.Code), append(changes, ProposalOpened),
			append(details, ""), append(froms, p.CCGCode), append(effective, today)
	}
	if len(codes) == 0 {
		return 0, nil
	}
	// A closure or move is proposed to the CCG whose services the practice
	// still has planned or live (its own, or the one it left), and only
	// then; an opening to the CCG it opened in, on its open date.
	rows, err := tx.Query(ctx, `
		WITH c AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[]) AS c(code, change, detail, from_ccg, eff)
		), target AS (
			(SELECT DISTINCT ON (c.code, c.change, c.detail) c.code, c.change, c.detail, c.eff, si.ccg_code
			FROM c JOIN service_instances si ON si.practice_code = c.code AND si.state IN ('planned', 'active')
			WHERE c.change <> 'opened'
			ORDER BY c.code, c.change, c.detail, (si.ccg_code = c.from_ccg) DESC, si.ccg_code)
			UNION ALL
			SELECT c.code, c.change, coalesce(p.open_date::text, ''), coalesce(p.open_date, c.eff), c.from_ccg
			FROM c JOIN practices p ON p.code = c.code WHERE c.change = 'opened'
		)
		INSERT INTO practice_proposals (ccg_code, practice_code, change, detail, effective_date, made_at, import_id)
		SELECT ccg_code, code, change, detail, eff, $6, $7 FROM target
		ON CONFLICT (practice_code, change, detail) DO NOTHING
		RETURNING id, ccg_code, practice_code, change, detail`, codes, changes, details, froms, effective, now, importID)
	if err != nil {
		return 0, fmt.Errorf("proposals: %w", err)
	}
	type made struct {
		id                        int64
		ccg, code, change, detail string
	}
	var all []made
	var m made
	if _, err := pgx.ForEachRow(rows, []any{&m.id, &m.ccg, &m.code, &m.change, &m.detail}, func() error {
		all = append(all, m)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("proposals: %w", err)
	}
	if len(all) == 0 {
		return 0, nil
	}
	batch := &pgx.Batch{}
	for _, m := range all {
		if err := audit.Queue(batch, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "proposal.make",
			EntityType: "proposal",
			EntityID:   strconv.FormatInt(m.id, 10),
			After:      map[string]any{"ccg": m.ccg, "practice": m.code, "change": m.change, "detail": m.detail, "import": importID},
		}); err != nil {
			return 0, err
		}
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return 0, fmt.Errorf("audit proposals: %w", err)
	}
	return len(all), nil
}

const proposalColumns = `pp.id, pp.ccg_code, pp.practice_code, p.name, pp.change, pp.detail, pp.effective_date, pp.made_at,
	coalesce(pp.outcome, ''), coalesce(pp.outcome_kind, ''), coalesce(pp.reason, ''), pp.return_id, pp.decided_at, coalesce(u.name, '')`

const proposalFrom = ` FROM practice_proposals pp JOIN practices p ON p.code = pp.practice_code LEFT JOIN users u ON u.id = pp.decided_by`

func scanProposal(row pgx.CollectableRow) (Proposal, error) {
	var p Proposal
	var kind string
	err := row.Scan(&p.ID, &p.CCGCode, &p.PracticeCode, &p.PracticeName, &p.Change, &p.Detail, &p.EffectiveDate, &p.MadeAt,
		&p.Outcome, &kind, &p.Reason, &p.ReturnID, &p.DecidedAt, &p.DecidedBy)
	p.OutcomeKind = Kind(kind)
	return p, err
}

// ProposalsShown bounds the proposals a return shows: a national file
// proposes a few a month to a CCG.
const ProposalsShown = 50

// ProposalsFor is what a return shows: the CCG's proposals still to decide
// (while the return is open) and those decided on this return, oldest
// first, at most ProposalsShown.
func ProposalsFor(ctx context.Context, db postgres.Querier, r Return) ([]Proposal, error) {
	rows, err := db.Query(ctx, `SELECT `+proposalColumns+proposalFrom+`
		WHERE pp.ccg_code = $1 AND (pp.return_id = $2 OR (pp.outcome IS NULL AND $3))
		ORDER BY pp.made_at, pp.id LIMIT $4`, r.CCGCode, r.ID, r.Editable, ProposalsShown)
	if err != nil {
		return nil, fmt.Errorf("proposals of %s: %w", r.CCGCode, err)
	}
	return pgx.CollectRows(rows, scanProposal)
}

// GetProposal is one of the return's CCG's proposals; another CCG's is not
// found, as one that does not exist.
func GetProposal(ctx context.Context, db postgres.Querier, r Return, id int64) (Proposal, error) {
	rows, err := db.Query(ctx, `SELECT `+proposalColumns+proposalFrom+` WHERE pp.id = $1 AND pp.ccg_code = $2`, id, r.CCGCode)
	if err != nil {
		return Proposal{}, fmt.Errorf("proposal %d: %w", id, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanProposal)
	if err != nil {
		return Proposal{}, postgres.NotFound(err, "No proposed change has the number %d.", id)
	}
	return p, nil
}

// ProposalAnswer is the buyer's confirmation of a proposal.
type ProposalAnswer struct {
	Kind   Kind
	Target string // a merger's receiving practice
	Date   time.Time
	Note   string
}

// ConfirmProposal makes a proposal into lines of the return, through the
// add-line checks, and records it confirmed, in one transaction: a merger
// (one line, into the receiving practice), or a cessation of each of the
// practice's live services and a cancellation of each planned one, all
// on the date. Problems come back keyed by the form's fields, nothing
// saved.
func (s *Store) ConfirmProposal(ctx context.Context, a org.Actor, ccgCode string, p Period, version int, id int64, ans ProposalAnswer) (int, error) {
	now := s.now()
	added := 0
	err := s.edit(ctx, a, ccgCode, p, version, func(tx pgx.Tx, r Return) error {
		prop, err := lockProposal(ctx, tx, r, id)
		if err != nil {
			return err
		}
		fields := map[string]string{}
		allowed := false
		for _, k := range prop.Kinds() {
			allowed = allowed || k == ans.Kind
		}
		if !allowed {
			fields[ProposalFieldKind] = "Select the kind of change to report"
		}
		if ans.Kind == Merger && strings.TrimSpace(ans.Target) == "" {
			fields[ProposalFieldTarget] = "Enter the ODS code of the practice it merged into"
		}
		if ans.Date.IsZero() {
			fields[ProposalFieldDate] = "Enter the date of the change"
		}
		if len(fields) > 0 {
			return &apperr.Error{Code: apperr.Invalid, Message: "The proposed change could not be reported", Fields: fields}
		}
		if r.NilReturn {
			return apperr.New(apperr.Invalid, "This return says there were no changes this month.")
		}
		var ins []LineInput
		note := strings.TrimSpace(ans.Note)
		if note == "" {
			note = prop.Words()
		}
		if ans.Kind == Merger {
			ins = append(ins, LineInput{Kind: Merger, Practice: prop.PracticeCode, Targets: []string{strings.ToUpper(strings.TrimSpace(ans.Target))}, Date: ans.Date, Note: note})
		} else {
			rows, err := tx.Query(ctx, `SELECT id, state FROM service_instances
				WHERE practice_code = $1 AND ccg_code = $2 AND state IN ('planned', 'active') ORDER BY id`, prop.PracticeCode, r.CCGCode)
			if err != nil {
				return err
			}
			var sid int64
			var state string
			if _, err := pgx.ForEachRow(rows, []any{&sid, &state}, func() error {
				k, d := Cessation, ans.Date
				if state == "planned" {
					// A planned service is cancelled, on a day the practice
					// was open: the close date itself, when the date is the
					// first day without service.
					k = Cancellation
					if closed, err := time.Parse(time.DateOnly, prop.Detail); err == nil && prop.Change == ProposalClosed && d.After(closed) {
						d = closed
					}
				}
				ins = append(ins, LineInput{Kind: k, Practice: prop.PracticeCode, Instance: ref(sid, prop.PracticeCode), Date: d, Note: note})
				return nil
			}); err != nil {
				return err
			}
			if len(ins) == 0 {
				return &apperr.Error{Code: apperr.Invalid, Message: "The proposed change could not be reported",
					Fields: map[string]string{ProposalFieldKind: prop.PracticeName + " has no planned or live service left to end: dismiss the proposal instead"}}
			}
		}
		// The lines go in as any amendment does: checked against the
		// ledger and every line of the return, then saved with their audit.
		plan, err := planAmendment(r, adding(ins))
		if err != nil {
			return err
		}
		problems, err := plan.check(ctx, tx)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			return &apperr.Error{Code: apperr.Invalid, Message: "The proposed change could not be reported", Fields: proposalFields(problems)}
		}
		if err := plan.save(ctx, tx, now, a); err != nil {
			return err
		}
		added = len(ins)
		return decide(ctx, tx, now, a, r, prop, OutcomeConfirmed, ans.Kind, "",
			map[string]any{"kind": ans.Kind, "date": ans.Date.Format(time.DateOnly), "target": ans.Target, "lines": added})
	})
	return added, err
}

// proposalFields maps the line checks' problems onto the proposal form:
// the date to its date, a merger's receiving practice to the target, and
// anything about a service or the practice to the kind.
func proposalFields(problems map[int]map[string]string) map[string]string {
	out := map[string]string{}
	for _, errs := range problems {
		for field, msg := range errs {
			to := ProposalFieldKind
			switch field {
			case FieldDate:
				to = ProposalFieldDate
			case FieldTargets:
				to = ProposalFieldTarget
			}
			if _, ok := out[to]; !ok {
				out[to] = msg
			}
		}
	}
	return out
}

// DismissProposal records that the buyer will not report a proposal, and
// why.
func (s *Store) DismissProposal(ctx context.Context, a org.Actor, ccgCode string, p Period, version int, id int64, reason string) error {
	now := s.now()
	reason = strings.TrimSpace(reason)
	return s.edit(ctx, a, ccgCode, p, version, func(tx pgx.Tx, r Return) error {
		prop, err := lockProposal(ctx, tx, r, id)
		if err != nil {
			return err
		}
		switch {
		case reason == "":
			return &apperr.Error{Code: apperr.Invalid, Message: "The proposed change could not be dismissed",
				Fields: map[string]string{ProposalFieldReason: "Enter why the change is not reported"}}
		case len([]rune(reason)) > 500:
			return &apperr.Error{Code: apperr.Invalid, Message: "The proposed change could not be dismissed",
				Fields: map[string]string{ProposalFieldReason: "The reason must be 500 characters or fewer"}}
		}
		return decide(ctx, tx, now, a, r, prop, OutcomeDismissed, "", reason, map[string]any{"reason": reason})
	})
}

// lockProposal reads a proposal of the return's CCG still to decide, locked
// until the decision commits, so two buyers decide it once.
func lockProposal(ctx context.Context, tx pgx.Tx, r Return, id int64) (Proposal, error) {
	rows, err := tx.Query(ctx, `SELECT `+proposalColumns+proposalFrom+` WHERE pp.id = $1 AND pp.ccg_code = $2 FOR UPDATE OF pp`, id, r.CCGCode)
	if err != nil {
		return Proposal{}, err
	}
	prop, err := pgx.CollectExactlyOneRow(rows, scanProposal)
	if err != nil {
		return Proposal{}, postgres.NotFound(err, "No proposed change has the number %d.", id)
	}
	switch {
	case prop.IsNote():
		return prop, apperr.New(apperr.Invalid, "This is a note: there is nothing to decide.")
	case prop.Outcome != "":
		return prop, apperr.New(apperr.Conflict, "This proposed change was %s already.", prop.Outcome)
	}
	return prop, nil
}

func decide(ctx context.Context, tx pgx.Tx, now time.Time, a org.Actor, r Return, prop Proposal, outcome string, kind Kind, reason string, after map[string]any) error {
	var k, why *string
	if kind != "" {
		s := string(kind)
		k = &s
	}
	if reason != "" {
		why = &reason
	}
	if _, err := tx.Exec(ctx, `UPDATE practice_proposals SET outcome = $2, outcome_kind = $3, reason = $4, return_id = $5, decided_at = $6, decided_by = $7
		WHERE id = $1`, prop.ID, outcome, k, why, r.ID, now, a.ID); err != nil {
		return fmt.Errorf("decide proposal %d: %w", prop.ID, err)
	}
	after["outcome"] = outcome
	after["return"] = r.AuditID()
	return audit.Record(ctx, tx, audit.Event{
		At:         now,
		By:         a.ID,
		Action:     "proposal." + strings.TrimSuffix(outcome, "ed"),
		EntityType: "proposal",
		EntityID:   strconv.FormatInt(prop.ID, 10),
		Before:     map[string]any{"practice": prop.PracticeCode, "change": prop.Change, "detail": prop.Detail},
		After:      after,
	})

}
