package sim

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/chargestar/chargestar/internal/ocpp/ocppj"
)

// Connector statuses (the OCPP 1.6 names; a 2.x protocol maps them).
const (
	statusAvailable     = "Available"
	statusPreparing     = "Preparing"
	statusCharging      = "Charging"
	statusSuspendedEV   = "SuspendedEV"
	statusSuspendedEVSE = "SuspendedEVSE"
	statusFinishing     = "Finishing"
	statusReserved      = "Reserved"
	statusUnavailable   = "Unavailable"
	statusFaulted       = "Faulted"
)

// Authorization statuses (1.6 names).
const authAccepted = "Accepted"

// Stop reasons the station uses beyond 1.6's (only a 2.x station gets
// these); a 2.x protocol maps every reason onto a stoppedReason and a
// triggerReason.
const (
	reasonImmediateReset = "ImmediateReset"
	reasonEnergyLimit    = "EnergyLimitReached"
	reasonTimeLimit      = "TimeLimitReached"
	reasonSoCLimit       = "SOCLimitReached"
	reasonCostLimit      = "CostLimitReached"
)

// phase is where a connector's driver is.
type phase uint8

const (
	phaseIdle      phase = iota // nobody there; a driver arrives at nextAt
	phaseCharging               // a transaction runs; it ends at nextAt
	phaseFinishing              // transaction over, cable still in; unplugged at nextAt
)

type connector struct {
	id                 int
	status             string
	errorCode          string // "" means NoError
	inoperative        bool   // ChangeAvailability Inoperative in force
	pendingInoperative *bool  // a Scheduled availability change, applied when the transaction ends
	phase              phase
	nextAt             time.Time
	nextMeter          time.Time
	tx                 *transaction
	reservation        *reservation
	remote             bool         // claimed by an accepted RemoteStartTransaction
	remoteStart        *remoteStart // 2.x: what the RequestStartTransaction that claimed it said
	meter              meter
}

// remoteStart is what a 2.x RequestStartTransaction gives its transaction.
type remoteStart struct {
	id     int    // remoteStartId, echoed in the transaction's first event
	idType string // the idToken's type
}

// meter is a connector's energy meter.
type meter struct {
	registerWh float64   // Energy.Active.Import.Register
	powerW     float64   // power since at
	limitW     float64   // the power offered since at
	at         time.Time // last integration (real clock)
}

type reservation struct {
	id       int
	idTag    string
	parentID string
	expiry   time.Time // real clock
}

// transaction is one charging transaction as the station knows it.
type transaction struct {
	seq int // the station's own number
	// id is the CSMS's transaction id in 1.6; 2.x sets it to seq once
	// the CSMS acknowledged the Started event, so in both versions 0
	// means "start not acknowledged yet".
	id         int
	uid        string // 2.x: the station's transactionId
	connector  int
	idTag      string
	idType     string // 2.x idToken type
	reservID   *int
	started    time.Time // station clock
	startedAt  time.Time // real clock, for time limits
	meterStart int64
	begin      sample // the Transaction.Begin reading
	soc        float64
	capacityWh float64
	load       bool // a load-mode transaction: meter values come from the load loop
	failed     bool // the CSMS never acknowledged the start
	profile    *chargingProfile

	// 2.x only.
	remote   bool
	remoteID *int     // remoteStartId
	seqNo    int      // the next TransactionEvent's seqNo
	limit    txLimit  // 2.1 transactionLimit, as last set by the CSMS
	cost     *float64 // the running total cost the CSMS last told (CostUpdated, totalCost)
	tariffID string   // 2.1 ChangeTransactionTariff
}

// txLimit is what the CSMS allows a transaction (2.1 transactionLimit);
// nil fields are unlimited.
type txLimit struct {
	maxCost   *float64
	maxEnergy *float64 // Wh
	maxTime   *int     // seconds
	maxSoC    *int     // percent
}

func (l txLimit) set() bool {
	return l.maxCost != nil || l.maxEnergy != nil || l.maxTime != nil || l.maxSoC != nil
}

// sample is one meter reading, version-neutral.
type sample struct {
	at       time.Time // station clock
	context  string    // 1.6 ReadingContext: Sample.Periodic, Transaction.Begin, ...
	energyWh float64
	powerW   float64
	offeredW float64
	voltage  [3]float64
	current  [3]float64
	phases   int
	soc      float64 // < 0: no EV data
	tempC    float64
}

// txKind is the kind of a transaction message.
type txKind uint8

const (
	txStart txKind = iota
	txMeter
	txStop
	txEvent // 2.x: a TransactionEvent Updated for another reason than a reading
)

// txMessage is a transaction-related message waiting to be delivered.
// Transaction messages are delivered in order, after a reconnection if
// need be; the CSMS's transaction id is filled in when sending.
type txMessage struct {
	kind     txKind
	tx       *transaction
	smp      sample // txEvent: only its time
	reason   string // stop
	idTag    string // stop
	attempts int
	offline  bool // produced while not connected (2.x offline flag)
	// 2.x: the seqNo, fixed at the first attempt so that a retry repeats it.
	seqNo  int
	hasSeq bool
	// 2.x txEvent: the triggerReason and what changed.
	trigger       string
	chargingState string
	// 2.x stop: the stoppedReason sent (reason mapped), for the record.
	sentReason string
	// Results of a start.
	authStatus string
}

// maxQueue bounds a station's offline queue; the oldest meter values go first.
const maxQueue = 1000

func (c *connector) restingStatus(station *connector) string {
	switch {
	case c.inoperative || station.inoperative:
		return statusUnavailable
	case c.reservation != nil:
		return statusReserved
	}
	return statusAvailable
}

// idleGapLocked draws the time until the next driver arrives.
func (s *Station) idleGapLocked() time.Duration {
	return time.Duration(s.rng.ExpFloat64() * float64(s.cfg.Idle))
}

// sessionLengthLocked draws a session's length: ±25% around the mean.
func (s *Station) sessionLengthLocked() time.Duration {
	return time.Duration(float64(s.cfg.SessionDuration) * (0.75 + 0.5*s.rng.Float64()))
}

// finishingDelay is how long the cable stays in after a transaction.
func (s *Station) finishingDelay() time.Duration {
	d := s.cfg.Idle / 4
	if d > 30*time.Second {
		d = 30 * time.Second
	}
	return d
}

// stepConnector moves a connector's driver along.
func (s *Station) stepConnector(ctx context.Context, c *connector, now time.Time) {
	s.mu.Lock()
	if r := c.reservation; r != nil && !now.Before(r.expiry) {
		c.reservation = nil
		online := s.link != nil && s.accepted
		s.mu.Unlock()
		if online {
			s.proto.reservationExpired(ctx, s, r.id)
		}
		s.mu.Lock()
		if c.phase == phaseIdle && c.status == statusReserved {
			st := c.restingStatus(s.conns[0])
			s.mu.Unlock()
			s.setStatus(ctx, c, st)
			s.mu.Lock()
		}
	}
	switch c.phase {
	case phaseIdle:
		if s.cfg.Mode != ModeSessions || c.remote || c.id > s.cfg.Connectors-s.cfg.AppConnectors {
			c.nextAt = time.Time{}
			s.mu.Unlock()
			return
		}
		if c.nextAt.IsZero() {
			c.nextAt = now.Add(s.idleGapLocked())
		}
		if now.Before(c.nextAt) {
			s.mu.Unlock()
			return
		}
		tag := s.cfg.IDTag(s.id, c.id)
		usable := c.status == statusAvailable || c.status == statusReserved && c.reservation != nil && c.reservation.idTag == tag
		if !usable {
			c.nextAt = now.Add(s.idleGapLocked())
			s.mu.Unlock()
			return
		}
		c.nextAt = time.Time{}
		s.mu.Unlock()
		s.beginSession(ctx, c, tag, false, nil)
	case phaseCharging:
		tx := c.tx
		if tx == nil || tx.load {
			s.mu.Unlock()
			return
		}
		if !now.Before(c.nextAt) {
			reason, tag := "EVDisconnected", ""
			if s.rng.Float64() < 0.7 {
				reason, tag = "Local", tx.idTag // the driver presents the card again
			}
			s.mu.Unlock()
			s.stopTx(ctx, c, reason, tag, true)
			return
		}
		if reason := s.limitReachedLocked(c, now); reason != "" {
			s.mu.Unlock()
			s.stopTx(ctx, c, reason, "", true)
			return
		}
		if !now.Before(c.nextMeter) {
			c.nextMeter = c.nextMeter.Add(s.meterIntervalLocked())
			if c.nextMeter.Before(now) {
				c.nextMeter = now.Add(s.meterIntervalLocked())
			}
			st := s.updateMeterLocked(c, now)
			smp := s.sampleLocked(c, "Sample.Periodic")
			s.enqueueLocked(&txMessage{kind: txMeter, tx: tx, smp: smp})
			s.mu.Unlock()
			if st != "" {
				s.setStatus(ctx, c, st)
			}
			s.flushNow(ctx)
			return
		}
		s.mu.Unlock()
	case phaseFinishing:
		if now.Before(c.nextAt) {
			s.mu.Unlock()
			return
		}
		if c.pendingInoperative != nil {
			c.inoperative = *c.pendingInoperative
			c.pendingInoperative = nil
		}
		c.phase = phaseIdle
		c.nextAt = time.Time{}
		st := c.restingStatus(s.conns[0])
		s.mu.Unlock()
		s.setStatus(ctx, c, st)
	default:
		s.mu.Unlock()
	}
}

// beginSession plugs in, authorises and starts a transaction. remote: set
// off by RemoteStartTransaction (authorised only if the configuration asks).
func (s *Station) beginSession(ctx context.Context, c *connector, tag string, remote bool, prof *chargingProfile) bool {
	s.mu.Lock()
	c.remote = false
	rs := c.remoteStart
	c.remoteStart = nil
	if c.tx != nil || c.phase != phaseIdle {
		s.mu.Unlock()
		return false
	}
	online := s.link != nil && s.accepted
	needAuth := !remote || s.v16.boolKey(keyAuthorizeRemoteTxRequests)
	s.mu.Unlock()
	s.setStatus(ctx, c, statusPreparing)

	ok := true
	if needAuth {
		if online {
			status, err := s.proto.authorize(ctx, s, tag)
			ok = err == nil && status == authAccepted
		} else {
			s.mu.Lock()
			ok = s.v16.boolKey(keyLocalAuthorizeOffline) && s.proto.localAccepted(s, tag)
			s.mu.Unlock()
		}
	}
	if !ok {
		s.mu.Lock()
		c.phase = phaseIdle
		c.nextAt = time.Now().Add(s.idleGapLocked())
		st := c.restingStatus(s.conns[0])
		s.mu.Unlock()
		s.setStatus(ctx, c, st)
		return false
	}
	s.startTx(ctx, c, txStartInfo{tag: tag, remote: remote, remoteStart: rs, prof: prof})
	return true
}

// txStartInfo says how a transaction starts.
type txStartInfo struct {
	tag         string
	remote      bool         // set off by the CSMS
	remoteStart *remoteStart // 2.x
	prof        *chargingProfile
	load        bool
}

// startTx starts a transaction on c and reports it.
func (s *Station) startTx(ctx context.Context, c *connector, si txStartInfo) {
	now := time.Now()
	s.mu.Lock()
	s.txSeq++
	tag, prof, load := si.tag, si.prof, si.load
	tx := &transaction{seq: s.txSeq, connector: c.id, idTag: tag, started: s.cfg.Now(), startedAt: now, load: load, profile: prof,
		remote: si.remote}
	if rs := si.remoteStart; rs != nil {
		id := rs.id
		tx.remoteID, tx.idType = &id, rs.idType
	}
	if _, v2 := s.proto.(ocpp2x); v2 {
		tx.uid = s.newTxIDLocked() // 2.x: the station names its transactions
	}
	if r := c.reservation; r != nil && (r.idTag == tag || r.parentID != "" && r.parentID == tag) {
		id := r.id
		tx.reservID = &id
		c.reservation = nil
	}
	// An EV with a 40–100 kWh battery at 10–60%.
	tx.capacityWh = 40000 + s.rng.Float64()*60000
	tx.soc = 10 + s.rng.Float64()*50
	c.meter.at = now
	c.meter.powerW = 0
	c.tx = tx
	c.phase = phaseCharging
	s.updateMeterLocked(c, now)
	tx.meterStart = int64(math.Floor(c.meter.registerWh))
	tx.begin = s.sampleLocked(c, "Transaction.Begin")
	if load {
		c.nextAt = now.Add(100 * 365 * 24 * time.Hour)
	} else {
		c.nextAt = now.Add(s.sessionLengthLocked())
	}
	c.nextMeter = now.Add(s.meterIntervalLocked())
	s.enqueueLocked(&txMessage{kind: txStart, tx: tx, smp: tx.begin})
	s.mu.Unlock()
	s.flushNow(ctx)
	s.setStatus(ctx, c, statusCharging)
}

// stopTx ends c's transaction, if any. report: send the status change and
// the StopTransaction now (else they wait, as in a hard reset).
func (s *Station) stopTx(ctx context.Context, c *connector, reason, tag string, report bool) {
	now := time.Now()
	s.mu.Lock()
	tx := c.tx
	if tx == nil {
		s.mu.Unlock()
		return
	}
	s.updateMeterLocked(c, now)
	smp := s.sampleLocked(c, "Transaction.End")
	c.meter.powerW = 0
	c.tx = nil
	c.phase = phaseFinishing
	c.nextAt = now.Add(s.finishingDelay())
	s.enqueueLocked(&txMessage{kind: txStop, tx: tx, smp: smp, reason: reason, idTag: tag})
	if tx.profile != nil {
		s.removeTxProfilesLocked(tx)
	}
	s.mu.Unlock()
	if report {
		s.flushNow(ctx)
		s.setStatus(ctx, c, statusFinishing)
	} else {
		s.mu.Lock()
		c.status = statusFinishing
		s.mu.Unlock()
	}
}

func (s *Station) meterIntervalLocked() time.Duration {
	if d := s.v16.intKey(keyMeterValueSampleInterval, -1); d > 0 {
		return time.Duration(d) * time.Second
	}
	return s.cfg.MeterInterval
}

// updateMeterLocked integrates the energy up to now and sets the power for
// the next interval. It returns a new status when the EV or the limit
// suspended or resumed charging ("" no change).
func (s *Station) updateMeterLocked(c *connector, now time.Time) string {
	m := &c.meter
	if !m.at.IsZero() {
		dt := now.Sub(m.at).Hours()
		if dt > 0 {
			e := m.powerW * dt
			m.registerWh += e
			if tx := c.tx; tx != nil && tx.capacityWh > 0 {
				tx.soc = math.Min(100, tx.soc+e/tx.capacityWh*100)
			}
		}
	}
	m.at = now
	tx := c.tx
	if tx == nil {
		m.powerW, m.limitW = 0, 0
		return ""
	}
	max := s.cfg.PowerKW * 1000
	limit := s.limitWLocked(c, now, max)
	m.limitW = limit
	target := math.Min(max, limit)
	status := statusCharging
	switch {
	case limit <= 0:
		target = 0
		status = statusSuspendedEVSE
	case tx.soc >= 100 && !tx.load:
		target = 0
		status = statusSuspendedEV
	case tx.soc > 80 && !tx.load:
		target *= math.Max(0.1, (100-tx.soc)/20)
	}
	if target > 0 {
		target *= 1 + s.rng.NormFloat64()*0.015
		target = math.Max(0, math.Min(target, math.Min(max, limit)))
	}
	m.powerW = target
	if c.status == statusCharging || c.status == statusSuspendedEV || c.status == statusSuspendedEVSE {
		if c.status != status {
			return status
		}
	}
	return ""
}

// sampleLocked reads the meter as it is.
func (s *Station) sampleLocked(c *connector, context string) sample {
	m := &c.meter
	smp := sample{at: s.cfg.Now(), context: context, energyWh: math.Floor(m.registerWh), powerW: math.Round(m.powerW),
		offeredW: math.Round(m.limitW), phases: s.cfg.Phases, soc: -1, tempC: math.Round(25 + s.rng.NormFloat64()*2)}
	for p := 0; p < s.cfg.Phases; p++ {
		v := 230 + s.rng.NormFloat64()*1.5
		smp.voltage[p] = math.Round(v*10) / 10
		smp.current[p] = math.Round(m.powerW/float64(s.cfg.Phases)/v*10) / 10
	}
	if c.tx != nil {
		smp.soc = math.Floor(c.tx.soc)
	}
	return smp
}

// ---- the transaction message queue ----

func (s *Station) enqueueLocked(m *txMessage) {
	if len(s.queue) >= maxQueue {
		for i, q := range s.queue {
			if q.kind == txMeter {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				s.stats.Queued.Add(-1)
				s.stats.Error("queue_full_meter_dropped")
				break
			}
		}
	}
	m.offline = s.link == nil || !s.accepted
	s.queue = append(s.queue, m)
	s.stats.Queued.Add(1)
}

// flushNow delivers queued messages now if online.
func (s *Station) flushNow(ctx context.Context) {
	if s.Online() {
		s.flush(ctx, time.Now())
	}
}

// flush delivers queued transaction messages in order, stopping at the
// first that cannot be delivered now.
func (s *Station) flush(ctx context.Context, now time.Time) {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 || now.Before(s.nextFlush) || s.link == nil || !s.accepted {
			s.mu.Unlock()
			return
		}
		m := s.queue[0]
		if m.kind != txStart && m.tx.id == 0 {
			// The start was never acknowledged: the CSMS cannot place these.
			s.popLocked(m)
			s.mu.Unlock()
			s.stats.Error("tx_message_dropped")
			continue
		}
		s.mu.Unlock()

		err := s.proto.txMessage(ctx, s, m)
		if err == nil {
			s.mu.Lock()
			s.popLocked(m)
			s.mu.Unlock()
			s.delivered(ctx, m)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		var ce *ocppj.CallError
		retry := time.Duration(s.v16.intKey(keyTransactionMessageRetryInterval, 10)) * time.Second
		if errors.As(err, &ce) {
			m.attempts++
			if m.attempts >= s.v16.intKey(keyTransactionMessageAttempts, 3) {
				s.popLocked(m)
				if m.kind == txStart {
					m.tx.failed = true
				}
				s.mu.Unlock()
				s.stats.Error("tx_message_dropped")
				continue
			}
			s.nextFlush = now.Add(retry * time.Duration(m.attempts))
		} else {
			s.nextFlush = now.Add(retry)
		}
		s.mu.Unlock()
		return
	}
}

func (s *Station) popLocked(m *txMessage) {
	if len(s.queue) > 0 && s.queue[0] == m {
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if len(s.queue) == 0 {
			s.queue = nil
		}
		s.stats.Queued.Add(-1)
	}
}

// delivered acts on an acknowledged transaction message.
func (s *Station) delivered(ctx context.Context, m *txMessage) {
	switch m.kind {
	case txStart:
		s.stats.SessionsStarted.Add(1)
		if m.authStatus != authAccepted && !m.tx.load {
			// StopTransactionOnInvalidId: end it.
			s.mu.Lock()
			c := s.conns[m.tx.connector]
			running := c.tx == m.tx
			s.mu.Unlock()
			if running {
				s.stopTx(ctx, c, "DeAuthorized", "", true)
			}
		}
	case txStop:
		s.stats.SessionsCompleted.Add(1)
		meterStop := int64(m.smp.energyWh)
		s.stats.EnergyWh.Add(meterStop - m.tx.meterStart)
		if s.cfg.OnSession != nil {
			r := SessionRecord{StationID: s.id, ConnectorID: m.tx.connector, TransactionID: m.tx.id, TxID: strconv.Itoa(m.tx.id),
				IDTag: m.tx.idTag, Started: m.tx.started, Stopped: m.smp.at, MeterStartWh: m.tx.meterStart,
				MeterStopWh: meterStop, Reason: m.reason}
			if m.tx.uid != "" {
				r.TransactionID, r.TxID, r.Reason = 0, m.tx.uid, m.sentReason
			}
			s.cfg.OnSession(r)
		}
	}
}

// limitReachedLocked returns the stop reason when c's transaction has
// reached a limit the CSMS set (2.1 transactionLimit), else "".
func (s *Station) limitReachedLocked(c *connector, now time.Time) string {
	tx := c.tx
	if tx == nil || !tx.limit.set() {
		return ""
	}
	l := tx.limit
	switch {
	case l.maxTime != nil && now.Sub(tx.startedAt) >= secondsDur(*l.maxTime):
		return reasonTimeLimit
	case l.maxEnergy != nil && s.energyNowLocked(c, now)-float64(tx.meterStart) >= *l.maxEnergy:
		return reasonEnergyLimit
	case l.maxCost != nil && tx.cost != nil && *tx.cost >= *l.maxCost:
		return reasonCostLimit
	case l.maxSoC != nil && tx.soc >= float64(*l.maxSoC):
		return reasonSoCLimit
	}
	return ""
}

// limitDueLocked returns when c's transaction will reach its time or
// energy limit at the present power (zero: no such limit).
func (s *Station) limitDueLocked(c *connector, now time.Time) time.Time {
	tx := c.tx
	if tx == nil || !tx.limit.set() {
		return time.Time{}
	}
	var due time.Time
	if l := tx.limit.maxTime; l != nil {
		due = tx.startedAt.Add(secondsDur(*l))
	}
	if l := tx.limit.maxEnergy; l != nil && c.meter.powerW > 0 {
		left := *l - (s.energyNowLocked(c, now) - float64(tx.meterStart))
		t := now.Add(time.Duration(max(left, 0) / c.meter.powerW * float64(time.Hour)))
		if due.IsZero() || t.Before(due) {
			due = t
		}
	}
	return due
}

// energyNowLocked is c's register at now, projected from the last
// integration at the present power.
func (s *Station) energyNowLocked(c *connector, now time.Time) float64 {
	m := &c.meter
	e := m.registerWh
	if !m.at.IsZero() && now.After(m.at) {
		e += m.powerW * now.Sub(m.at).Hours()
	}
	return e
}

// ---- load modes ----

// stepLoad runs the closed- and open-loop MeterValues stream on connector
// 1: the transaction starts at once, the stream when the fleet says go.
func (s *Station) stepLoad(ctx context.Context, now time.Time) {
	if !s.Online() {
		if !s.loadNext.IsZero() {
			s.loadNext = now // missed sends while offline are not made up for
		}
		return
	}
	c := s.conns[1]
	if !s.loadTx {
		s.loadTx = true
		s.mu.Lock()
		busy := c.tx != nil
		s.mu.Unlock()
		if !busy {
			s.startTx(ctx, c, txStartInfo{tag: s.cfg.IDTag(s.id, c.id), load: true})
		}
		return
	}
	if !s.loadGo() {
		return
	}
	var intended time.Time
	if s.cfg.Mode == ModeOpenLoop {
		if s.loadNext.IsZero() {
			s.loadNext = now.Add(s.loadOffset())
		}
		if now.Before(s.loadNext) {
			return
		}
		intended = s.loadNext
		s.loadNext = s.loadNext.Add(time.Duration(float64(time.Second) / s.cfg.Rate))
	}
	s.mu.Lock()
	s.updateMeterLocked(c, now)
	smp := s.sampleLocked(c, "Sample.Periodic")
	tx := c.tx
	s.mu.Unlock()
	if tx != nil && (tx.id == 0 || tx.failed) {
		tx = nil
	}
	s.proto.meterValues(ctx, s, c.id, tx, &smp, intended)
}

// loadGo reports whether the load stream may run.
func (s *Station) loadGo() bool { return s.loadStart == nil || s.loadStart.Load() }

// loadOffset spreads the open-loop stations' sends over the period.
func (s *Station) loadOffset() time.Duration {
	period := time.Duration(float64(time.Second) / s.cfg.Rate)
	if s.loadPhase >= 0 {
		return time.Duration(s.loadPhase * float64(period))
	}
	return time.Duration(s.rng.Float64() * float64(period))
}
