package transport

// send writes an answer on a parked connection. It is a plain conn.Write:
// a raw non-blocking sendto, hidden from the scheduler, was measured
// against it (bench/README.md, 10,000 long polls) and made no difference
// a client on another machine could see; it only kept one or two OS
// threads fewer during a release.
func (p *parked) send(b []byte) error {
	_, err := p.conn.Write(b)
	return err
}
