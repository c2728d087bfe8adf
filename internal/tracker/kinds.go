package tracker

import "ccgtracker/internal/ledger"

// What each kind of change line is made of, decided once: the form offers
// and reads a kind's fields from here, the upload keeps only them, the
// workbook's About sheet and the form's hints say the same words, and the
// pages describe a line by them. Fields are named by meaning (the Field
// constants); the views map them to input ids.

// KindSpec is one kind of change: its words and the fields it uses beyond
// the practice, the date and the note, which every kind has.
type KindSpec struct {
	Kind Kind
	// Hint says what the kind reports, beside its radio and on the
	// workbook's About sheet.
	Hint string
	// Fields are the line's fields the kind uses, by meaning, in the
	// order a form shows them.
	Fields []string
	// From are the states of a service whose own row offers the kind
	// (DOMAIN.md §6: what a planned service, a live one may do); none for
	// a change that starts from the practice.
	From []ledger.State
	// AsNew is true when a planned service's row offers the kind as the
	// new service of it (a migration to it), not as the old one.
	AsNew bool
}

// kindSpecs is the table, in the order forms offer the kinds.
var kindSpecs = []KindSpec{
	{Kind: Activation, Hint: "A planned service went live on the date (its actual M1).",
		Fields: []string{FieldInstance}, From: []ledger.State{ledger.Planned}},
	{Kind: Verification, Hint: "The service was verified as stable on the date (M2).",
		Fields: []string{FieldInstance}, From: []ledger.State{ledger.Active}},
	{Kind: Cessation, Hint: "The service stopped: the date is the first day it was no longer provided.",
		Fields: []string{FieldInstance}, From: []ledger.State{ledger.Active}},
	{Kind: Migration, Hint: "The practice moved from a live service to a new, planned one on the date: give both services.",
		Fields: []string{FieldInstance, FieldNewInstance}, From: []ledger.State{ledger.Active}},
	{Kind: Merger, Hint: "The practice closed and merged into another practice on the date: give the practice it merged into.",
		Fields: []string{FieldTargets, FieldOtherCCG}},
	{Kind: Split, Hint: "The practice split on the date, its patients moving to other practices: give those practices.",
		Fields: []string{FieldTargets, FieldOtherCCG}},
	{Kind: Cancellation, Hint: "A planned service will never go live.",
		Fields: []string{FieldInstance}, From: []ledger.State{ledger.Planned}},
	{Kind: Correction, Hint: "A date accepted earlier was wrong: say which date, and give the right one.",
		Fields: []string{FieldInstance, FieldCorrects}, From: []ledger.State{ledger.Active, ledger.Ceased}},
}

// migrationToPlanned is the migration as a planned service's row offers
// it: the service is the new one, and the old one is chosen.
var migrationToPlanned = KindSpec{Kind: Migration, Hint: "The practice moved to this planned service from a live one on the date: choose the service it replaced.",
	Fields: []string{FieldInstance, FieldNewInstance}, From: []ledger.State{ledger.Planned}, AsNew: true}

// KindSpecs lists every kind with what it uses, in the order forms offer
// them.
func KindSpecs() []KindSpec { return append([]KindSpec(nil), kindSpecs...) }

// Spec is the kind's entry in the table; an unknown kind uses nothing.
func (k Kind) Spec() KindSpec {
	for _, s := range kindSpecs {
		if s.Kind == k {
			return s
		}
	}
	return KindSpec{Kind: k}
}

// Hint is what the kind reports, in words.
func (k Kind) Hint() string { return k.Spec().Hint }

// Uses reports whether lines of the kind have the field (by meaning).
// The practice, date and note belong to every kind.
func (k Kind) Uses(field string) bool {
	switch field {
	case FieldKind, FieldPractice, FieldDate, FieldNote:
		return true
	}
	for _, f := range k.Spec().Fields {
		if f == field {
			return true
		}
	}
	return false
}

// KindsFor are the kinds a service in state offers from its own row, in
// the table's order: a planned service may go live, be cancelled or be a
// migration's new service; a live one be verified, cease, be migrated
// from or have a date corrected; one that ceased, a date corrected.
func KindsFor(state ledger.State) []KindSpec {
	var out []KindSpec
	for _, s := range kindSpecs {
		for _, st := range s.From {
			if st == state {
				out = append(out, s)
			}
		}
		if s.Kind == Migration && state == ledger.Planned {
			out = append(out, migrationToPlanned)
		}
	}
	return out
}

// Trimmed is the line with only the fields its kind uses: a value left in
// another kind's field (a form without JavaScript shows them all, a file
// has every column) must not make the line contradict another, nor be
// saved. A line of no known kind is left as it is, for the checker to
// refuse.
func (in LineInput) Trimmed() LineInput {
	k := in.Kind
	if !k.Valid() {
		return in
	}
	if !k.Uses(FieldInstance) {
		in.Instance = ""
	}
	if !k.Uses(FieldNewInstance) {
		in.NewInstance = ""
	}
	if !k.Uses(FieldTargets) {
		in.Targets = nil
	}
	if !k.Uses(FieldOtherCCG) {
		in.OtherCCGConfirmed = false
	}
	if !k.Uses(FieldCorrects) {
		in.Corrects = ""
	}
	return in
}
