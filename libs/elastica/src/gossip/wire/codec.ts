import { incarnationRef } from './incarnation.js';
import { GossipDecodeError } from '../../errors/gossip-decode.error.js';
import { ByteReader, ByteWriter, stringSize, varintSize } from './bytes.js';
import type { AnnouncedStatus, Delta, DigestEntry, GossipMessage, Identity, Item, MessageHeader } from './messages.js';

/*
 * Wire format (all integers LEB128 varints unless said otherwise; refs are 6 bytes big-endian):
 *   magic 0xEA, kind byte (low 3 bits type, bit 3 "digest complete"),
 *   header: senderRef, senderHeartbeat, receiverRef, receiverVersion
 *   syn:  count, count x (ref, version)
 *   ack:  count, count x (ref, version) requests, then deltas
 *   ack2: deltas
 *   deltas: repeated (1 ref | 2 id address generation) items... 0, then 0
 *   items:  1 version status-byte (heartbeat) | 2 version key value, terminated by 0
 */
const MAGIC = 0xea;
const TYPES = ['syn', 'ack', 'ack2', 'ping', 'pong'] as const;
const COMPLETE = 0x08;
const STATUSES: readonly AnnouncedStatus[] = ['joining', 'up', 'leaving', 'left'];
const STATUS_CODE: Record<AnnouncedStatus, number> = { joining: 0, up: 1, leaving: 2, left: 3 };
const MAX_STRING = 1 << 20;

export const REF_BYTES = 6;
/** Magic and kind. */
export const PREAMBLE_BYTES = 2;

export function headerSize(header: MessageHeader): number {
  return REF_BYTES * 2 + varintSize(header.senderHeartbeat) + varintSize(header.receiverVersion);
}

export function digestEntrySize(version: number): number {
  return REF_BYTES + varintSize(version);
}

export function itemSize(item: Item): number {
  return 1 + varintSize(item.version) + (item.key === undefined ? 1 : stringSize(item.key) + stringSize(item.value));
}

/** A delta's bytes before its items, plus its items' terminator. */
export function deltaOverhead(identity: Identity | undefined): number {
  return (
    1 +
    (identity ? stringSize(identity.id) + stringSize(identity.address) + varintSize(identity.generation) : REF_BYTES) +
    1
  );
}

export function encodeMessage(message: GossipMessage): Uint8Array {
  const writer = new ByteWriter(512);
  writer.u8(MAGIC);
  writer.u8(TYPES.indexOf(message.type) | (message.type === 'syn' && message.complete ? COMPLETE : 0));
  const h = message.header;
  writer.u48(h.senderRef);
  writer.varint(h.senderHeartbeat);
  writer.u48(h.receiverRef);
  writer.varint(h.receiverVersion);
  if (message.type === 'syn') writeDigests(writer, message.digests);
  else if (message.type === 'ack') {
    writeDigests(writer, message.requests);
    writeDeltas(writer, message.deltas);
  } else if (message.type === 'ack2') writeDeltas(writer, message.deltas);
  return writer.finish();
}

function writeDigests(writer: ByteWriter, digests: DigestEntry[]): void {
  writer.varint(digests.length);
  for (const entry of digests) {
    writer.u48(entry.ref);
    writer.varint(entry.version);
  }
}

function writeDeltas(writer: ByteWriter, deltas: Delta[]): void {
  for (const delta of deltas) {
    if (delta.identity) {
      writer.u8(2);
      writer.string(delta.identity.id);
      writer.string(delta.identity.address);
      writer.varint(delta.identity.generation);
    } else {
      writer.u8(1);
      writer.u48(delta.ref);
    }
    for (const item of delta.items) {
      if (item.key === undefined) {
        writer.u8(1);
        writer.varint(item.version);
        writer.u8(STATUS_CODE[item.status]);
      } else {
        writer.u8(2);
        writer.varint(item.version);
        writer.string(item.key);
        writer.string(item.value);
      }
    }
    writer.u8(0);
  }
  writer.u8(0);
}

/** Decodes one message or throws a GossipDecodeError saying what is wrong with it. */
export function decodeMessage(bytes: Uint8Array): GossipMessage {
  const reader = new ByteReader(bytes);
  const magic = reader.u8('magic');
  if (magic !== MAGIC) throw new GossipDecodeError(`not a gossip message (magic 0x${magic.toString(16)})`);
  const kind = reader.u8('kind');
  const type = TYPES[kind & 0x07];
  if (type === undefined) throw new GossipDecodeError(`unknown message type ${kind & 0x07}`);
  const header: MessageHeader = {
    senderRef: reader.u48('sender ref'),
    senderHeartbeat: reader.varint('sender heartbeat'),
    receiverRef: reader.u48('receiver ref'),
    receiverVersion: reader.varint('receiver version'),
  };
  let message: GossipMessage;
  if (type === 'syn')
    message = { type, header, complete: (kind & COMPLETE) !== 0, digests: readDigests(reader, bytes.length) };
  else if (type === 'ack')
    message = { type, header, requests: readDigests(reader, bytes.length), deltas: readDeltas(reader) };
  else if (type === 'ack2') message = { type, header, deltas: readDeltas(reader) };
  else message = { type, header };
  if (!reader.done) throw new GossipDecodeError(`${bytes.length - reader.position} trailing byte(s) after a ${type}`);
  return message;
}

function readDigests(reader: ByteReader, total: number): DigestEntry[] {
  const count = reader.varint('digest count');
  if (count * (REF_BYTES + 1) > total)
    throw new GossipDecodeError(`digest count ${count} cannot fit in ${total} bytes`);
  const digests: DigestEntry[] = new Array(count);
  for (let i = 0; i < count; i++)
    digests[i] = { ref: reader.u48('digest ref'), version: reader.varint('digest version') };
  return digests;
}

function readDeltas(reader: ByteReader): Delta[] {
  const deltas: Delta[] = [];
  for (;;) {
    const kind = reader.u8('delta kind');
    if (kind === 0) return deltas;
    let delta: Delta;
    if (kind === 1) delta = { ref: reader.u48('delta ref'), items: [] };
    else if (kind === 2) {
      const identity: Identity = {
        id: reader.string('node id', MAX_STRING),
        address: reader.string('node address', MAX_STRING),
        generation: reader.varint('generation'),
      };
      delta = { ref: incarnationRef(identity.id, identity.generation), identity, items: [] };
    } else throw new GossipDecodeError(`unknown delta kind ${kind}`);
    let previous = 0;
    for (;;) {
      const tag = reader.u8('item tag');
      if (tag === 0) break;
      const version = reader.varint('item version');
      if (version <= previous)
        throw new GossipDecodeError(`item versions must increase within a delta (${version} after ${previous})`);
      previous = version;
      if (tag === 1) {
        const status = STATUSES[reader.u8('status')];
        if (status === undefined) throw new GossipDecodeError('unknown status code');
        delta.items.push({ version, key: undefined, status });
      } else if (tag === 2) {
        delta.items.push({ version, key: reader.string('key', MAX_STRING), value: reader.string('value', MAX_STRING) });
      } else throw new GossipDecodeError(`unknown item tag ${tag}`);
    }
    deltas.push(delta);
  }
}
