//go:build !linux

package transport

// send writes an answer on a parked connection.
func (p *parked) send(b []byte) error {
	_, err := p.conn.Write(b)
	return err
}
