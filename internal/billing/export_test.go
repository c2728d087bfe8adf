package billing

// Computations is how many results the service has computed (months and
// charts), for the tests of its cache.
func (s *Service) Computations() int64 { return s.computed.Load() }
