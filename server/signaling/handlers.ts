import type { types } from 'mediasoup';
import type { ClientMethod, ClientRequestData, ClientResponseData } from '../../protocol/schema.js';
import { isParticipant, type TokenClaims, type TokenService } from '../auth/tokens.js';
import { conflict, forbidden, notFound, unauthorized } from '../errors.js';
import type { RecordingService } from '../recording/recordingService.js';
import * as moderation from '../rooms/moderation.js';
import * as receiving from '../rooms/receiving.js';
import type { Peer, PeerSink } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';

/** What a handler may see and change of its connection. */
export interface HandlerContext {
  claims: TokenClaims & { exp: number };
  sink: PeerSink;
  rooms: RoomRegistry;
  recordings: RecordingService;
  /** Network quality (QualityMonitor): the browser's own reports, and the levels a joining teacher missed. */
  quality: {
    noteReport(peer: Peer, report: ClientRequestData<'reportNetwork'>): void;
    sendCurrentLevels(room: Room, to: Peer): void;
  };
  /** ICE servers for one user: TURN with credentials issued for them. */
  iceServersFor: (userId: string) => ClientResponseData<'join'>['iceServers'];
  session: { room?: Room | undefined; peer?: Peer | undefined };
  /** Refuses new students and observers while every media worker is saturated (joinAdmission.ts). */
  admission?: { check(role: TokenClaims['role'], resuming: boolean): void } | undefined;
  /** Cluster mode: decides whether a join is served here, redirected to the room's node, or refused. */
  cluster?: { admit(roomId: string, userId: string, redirected: boolean): Promise<void> } | undefined;
  /** Checks a fresh token (refreshToken). */
  tokens: Pick<TokenService, 'verify'>;
  /** The session now lasts until this `exp` (seconds). */
  renewToken(expSec: number): void;
  /** Runs once the answer to this request has been sent (e.g. offering consumers). */
  afterReply(fn: () => void): void;
}

type Handler<M extends ClientMethod> = (ctx: HandlerContext, data: ClientRequestData<M>) => Promise<ClientResponseData<M>>;

function joined(ctx: HandlerContext): { room: Room; peer: Peer } {
  const { room, peer } = ctx.session;
  if (!room || !peer || peer.closed) throw conflict('join first');
  return { room, peer };
}

const ok = {} as Record<string, never>;

export const handlers: { [M in ClientMethod]: Handler<M> } = {
  async join(ctx, data) {
    if (ctx.session.peer && !ctx.session.peer.closed) throw conflict('already joined');
    // The token was checked at connect; a socket can outlive it, so check again before entering.
    if (ctx.claims.exp * 1000 <= Date.now()) throw unauthorized('access token expired; reconnect with a fresh one');
    await ctx.cluster?.admit(ctx.claims.room, ctx.claims.sub, data.redirected === true);
    // After the cluster's say: a join for a class on another node is redirected there, whatever this node's load.
    ctx.admission?.check(ctx.claims.role, data.resume !== undefined);
    const room = await ctx.rooms.getOrCreate(ctx.claims.room);
    let peer: Peer;
    try {
      peer = data.resume
        ? room.resumePeer(data.resume.peerId, data.resume.sessionToken, ctx.claims.sub, ctx.sink)
        : room.addPeer(ctx.claims, ctx.sink);
    } catch (err) {
      if (room.peers.size === 0) room.close('empty'); // a room opened for a join that failed
      throw err;
    }
    ctx.session.room = room;
    ctx.session.peer = peer;
    if (data.resume) ctx.afterReply(() => room.consumeMissing(peer));
    // A teacher missed the quality changes before joining: send everyone's current levels.
    if (peer.role === 'teacher') ctx.afterReply(() => ctx.quality.sendCurrentLevels(room, peer));
    return {
      peerId: peer.id,
      sessionToken: peer.sessionToken,
      resumed: Boolean(data.resume),
      role: peer.role,
      roomId: room.id,
      peers: [...room.peers.values()].filter((p) => p !== peer).map((p) => p.info()),
      routerRtpCapabilities: room.router.rtpCapabilities as never,
      iceServers: ctx.iceServersFor(peer.userId),
      consumerIds: [...peer.consumers.values()].filter((c) => c.appData.acked).map((c) => c.id),
      policy: room.policy,
      videoLimits: room.views.limits,
      chat: room.chat.history(),
      activeSpeaker: room.activeSpeaker,
    };
  },

  async setRtpCapabilities(ctx, data) {
    const { room, peer } = joined(ctx);
    peer.setRtpCapabilities(data.rtpCapabilities as types.RtpCapabilities);
    ctx.afterReply(() => room.consumeMissing(peer));
    return ok;
  },

  async createTransport(ctx, data) {
    const { room, peer } = joined(ctx);
    const t = await room.createTransport(peer, data.direction);
    if (data.direction === 'recv') ctx.afterReply(() => room.consumeMissing(peer));
    return {
      id: t.id,
      iceParameters: t.iceParameters as never,
      iceCandidates: t.iceCandidates as never,
      dtlsParameters: t.dtlsParameters as never,
    };
  },

  async connectTransport(ctx, data) {
    const { room, peer } = joined(ctx);
    const t = room.transportOf(peer, data.transportId);
    if (t.dtlsState !== 'new') throw conflict(`transport already connected (DTLS ${t.dtlsState})`);
    await t.connect({ dtlsParameters: data.dtlsParameters as types.DtlsParameters });
    return ok;
  },

  async restartIce(ctx, data) {
    const { room, peer } = joined(ctx);
    const iceParameters = await room.transportOf(peer, data.transportId).restartIce();
    return { iceParameters: iceParameters as never };
  },

  async closeTransport(ctx, data) {
    const { room, peer } = joined(ctx);
    room.transportOf(peer, data.transportId).close();
    return ok;
  },

  async produce(ctx, data) {
    const { room, peer } = joined(ctx);
    const producer = await room.produce(peer, { ...data, rtpParameters: data.rtpParameters as types.RtpParameters });
    ctx.afterReply(() => room.offerProducer(peer, producer));
    return { producerId: producer.id, paused: producer.paused };
  },

  async closeProducer(ctx, data) {
    const { room, peer } = joined(ctx);
    room.producerOf(peer, data.producerId).close();
    return ok;
  },

  async pauseProducer(ctx, data) {
    const { room, peer } = joined(ctx);
    await room.setProducerPaused(peer, data.producerId, true);
    return ok;
  },

  async resumeProducer(ctx, data) {
    const { room, peer } = joined(ctx);
    await room.setProducerPaused(peer, data.producerId, false);
    return ok;
  },

  async pauseConsumer(ctx, data) {
    const { room, peer } = joined(ctx);
    await receiving.setConsumerPaused(room, peer, data.consumerId, true);
    return ok;
  },

  async resumeConsumer(ctx, data) {
    const { room, peer } = joined(ctx);
    await receiving.setConsumerPaused(room, peer, data.consumerId, false);
    return ok;
  },

  async setConsumerPreferredLayers(ctx, data) {
    const { room, peer } = joined(ctx);
    await receiving.preferConsumerLayers(room, peer, data);
    return ok;
  },

  async setView(ctx, data) {
    const { room, peer } = joined(ctx);
    return { receiving: await receiving.setView(room, peer, data) };
  },

  async setConsumerPriority(ctx, data) {
    const { room, peer } = joined(ctx);
    await room.consumerOf(peer, data.consumerId).setPriority(data.priority);
    return ok;
  },

  async getTransportStats(ctx, data) {
    const { room, peer } = joined(ctx);
    const stats = await room.transportOf(peer, data.transportId).getStats();
    return { stats: stats as never };
  },

  async startRecording(ctx) {
    const { room, peer } = joined(ctx);
    moderation.requireTeacher(peer, 'record');
    return { recordingId: ctx.recordings.start(room.id, { sub: peer.userId, owner: ctx.claims.owner }).id };
  },

  async stopRecording(ctx) {
    const { room, peer } = joined(ctx);
    moderation.requireTeacher(peer, 'stop a recording');
    return { recordingId: (await ctx.recordings.stop(room.id)).id };
  },

  async reportNetwork(ctx, data) {
    const { peer } = joined(ctx);
    ctx.quality.noteReport(peer, data);
    return ok;
  },

  async raiseHand(ctx) {
    const { room, peer } = joined(ctx);
    moderation.raiseHand(room, peer);
    return ok;
  },

  async lowerHand(ctx, data) {
    const { room, peer } = joined(ctx);
    moderation.lowerHand(room, peer, data.peerId);
    return ok;
  },

  async sendChat(ctx, data) {
    const { room, peer } = joined(ctx);
    return { message: moderation.sendChat(room, peer, data.text) };
  },

  async setRoomPolicy(ctx, data) {
    const { room, peer } = joined(ctx);
    return { policy: moderation.setPolicy(room, peer, data) };
  },

  async setVideoLimits(ctx, data) {
    const { room, peer } = joined(ctx);
    return { videoLimits: receiving.setVideoLimits(room, peer, data) };
  },

  async mutePeer(ctx, data) {
    const { room, peer } = joined(ctx);
    await moderation.mutePeer(room, peer, data.peerId);
    return ok;
  },

  async muteAll(ctx) {
    const { room, peer } = joined(ctx);
    return { muted: await moderation.muteAll(room, peer) };
  },

  async stopPeerSource(ctx, data) {
    const { room, peer } = joined(ctx);
    moderation.stopPeerSource(room, peer, data.peerId, data.source);
    return ok;
  },

  async allowSpeak(ctx, data) {
    const { room, peer } = joined(ctx);
    await moderation.allowSpeak(room, peer, data.peerId, data.allowed);
    return ok;
  },

  async removePeer(ctx, data) {
    const { room, peer } = joined(ctx);
    moderation.removePeer(room, peer, data.peerId, data.reason);
    return ok;
  },

  async endClass(ctx) {
    const { room, peer } = joined(ctx);
    moderation.requireTeacher(peer, 'end the class');
    moderation.audit(room, peer, 'endClass');
    // After the answer, so that the teacher's client hears it before its socket closes.
    ctx.afterReply(() => room.close(`the class was ended by ${peer.name}`, { ended: true }));
    return ok;
  },

  async refreshToken(ctx, data) {
    const next = await ctx.tokens.verify(data.token);
    const { room, sub, role } = ctx.claims;
    if (!isParticipant(next) || next.room !== room || next.sub !== sub || next.role !== role) {
      throw forbidden('the fresh token must be for the same room, user and role as the session');
    }
    ctx.renewToken(next.exp);
    return { expiresAt: next.exp * 1000 };
  },

  async leave(ctx) {
    const { room, peer } = ctx.session;
    if (!room || !peer) throw notFound('not in a room');
    room.removePeer(peer, 'left');
    ctx.session.room = undefined;
    ctx.session.peer = undefined;
    return ok;
  },
};
