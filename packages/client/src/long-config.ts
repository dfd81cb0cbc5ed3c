// 64-bit fields (seq, timestamps, coin values) stay within 2^53, so they decode as plain numbers:
// protobufjs does that when it has no Long class. Runs before the generated module loads, since
// field defaults are computed at load time. The published builds bundle a private protobufjs,
// so this never changes an app's own protobufjs.
import * as protobuf from 'protobufjs/minimal';

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();
