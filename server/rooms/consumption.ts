import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.js';
import type { ConsumerData, ProducerData } from './appData.js';
import { syncForwarding } from './forwarding.js';
import { applyLayers, consumerPriority } from './layers.js';
import type { Peer } from './peer.js';
import type { Placement } from './placement.js';

/** What the room follows of its consumers (which videos each peer is shown, dynacast). */
export interface ConsumerHooks {
  /** Created, not confirmed by the client yet. */
  added(peer: Peer, consumer: types.Consumer<ConsumerData>): void;
  closed(peer: Peer, consumer: types.Consumer<ConsumerData>): void;
}

/**
 * Makes `peer` consume `owner`'s producer on `peer`'s router: creates a paused consumer, offers it
 * to the client, and once the client has it resumes it if it is to be forwarded (a video its view
 * hides stays paused; see forwarding.ts), so that the first packets it decodes start with a key
 * frame. Does nothing when the peer cannot receive yet (no receive transport, no RTP capabilities,
 * disconnected) or already consumes it: it is offered again when it can.
 */
export async function consume(placement: Placement, log: Logger, hooks: ConsumerHooks, peer: Peer, owner: Peer, producer: types.Producer<ProducerData>): Promise<void> {
  const transport = peer.recvTransport();
  const home = peer.home;
  if (!transport || !home || !peer.rtpCapabilities || !peer.sink || producer.closed) return;
  if (peer.consuming.has(producer.id)) return;
  for (const c of peer.consumers.values()) if (c.producerId === producer.id) return;
  peer.consuming.add(producer.id);
  let consumer: types.Consumer<ConsumerData>;
  try {
    // A producer from another router is consumed through its pipe to this peer's router.
    if (!(await placement.pipe(producer, owner, home)) || producer.closed || transport.closed) return;
    if (!home.router.canConsume({ producerId: producer.id, rtpCapabilities: peer.rtpCapabilities })) {
      log.warn({ peer: peer.id, producer: producer.id }, 'peer cannot consume producer (codecs)');
      return;
    }
    consumer = await transport.consume<ConsumerData>({
      producerId: producer.id,
      rtpCapabilities: peer.rtpCapabilities,
      paused: true,
      appData: { peerId: owner.id, source: producer.appData.source, acked: false, ownerRole: owner.role, shown: false },
    });
    if (consumer.kind === 'video') {
      await consumer.setPriority(consumerPriority(owner.role, producer.appData.source)).catch(() => undefined);
      await applyLayers(consumer, peer.downlinkCapped);
    }
  } catch (err) {
    log.warn({ err, peer: peer.id, producer: producer.id }, 'consume failed');
    return;
  } finally {
    peer.consuming.delete(producer.id);
  }
  if (peer.closed) {
    consumer.close();
    return;
  }
  peer.consumers.set(consumer.id, consumer);
  consumer.observer.once('close', () => {
    peer.consumers.delete(consumer.id);
    hooks.closed(peer, consumer);
  });
  hooks.added(peer, consumer);
  consumer.on('producerclose', () => peer.notify('consumerClosed', { consumerId: consumer.id }));
  consumer.on('producerpause', () => peer.notify('consumerPaused', { consumerId: consumer.id }));
  consumer.on('producerresume', () => peer.notify('consumerResumed', { consumerId: consumer.id }));
  consumer.on('layerschange', (layers) =>
    peer.notify('consumerLayersChanged', {
      consumerId: consumer.id,
      spatialLayer: layers?.spatialLayer ?? null,
      temporalLayer: layers?.temporalLayer ?? null,
    }),
  );
  const sink = peer.sink;
  if (!sink) return; // disconnected meanwhile: re-offered on resume
  try {
    await sink.request('newConsumer', {
      id: consumer.id,
      producerId: producer.id,
      peerId: owner.id,
      kind: consumer.kind,
      source: producer.appData.source,
      rtpParameters: consumer.rtpParameters as never,
      type: consumer.type,
      producerPaused: consumer.producerPaused,
    });
  } catch (err) {
    // The client refused or the socket dropped. If the same connection is still there, the
    // client does not want it: close. Otherwise keep it unconfirmed; resume re-offers it.
    if (peer.sink === sink && !consumer.closed) consumer.close();
    log.debug({ err, peer: peer.id, consumer: consumer.id }, 'consumer not confirmed');
    return;
  }
  if (consumer.closed) return;
  consumer.appData.acked = true;
  await syncForwarding(consumer);
}
