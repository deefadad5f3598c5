import type { Finding } from '@cxr/shared';
import type Konva from 'konva';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Circle, Group, Label, Layer, Rect, Stage, Tag, Text, Transformer } from 'react-konva';
import type { Tool, ViewerController, ViewerState } from '../viewer/controller.js';
import {
  type ImageBox,
  type ImagePoint,
  type Viewport,
  boxToScreen,
  clampBox,
  screenPoint,
  screenRect,
  screenToBox,
  screenToImage,
  translateBoxInside,
} from '../viewer/transform.js';
import { type BoxStatus, boxStyle } from './box-style.js';
import type { ColorOf } from './colors.js';
import { type ChipPlacement, placeChips } from './label-layout.js';

export interface RemoteCursor {
  readonly clientId: number;
  readonly userId: string;
  readonly name: string;
  readonly color: string;
  readonly x: number;
  readonly y: number;
}

type Gesture =
  | { kind: 'draw'; x0: number; y0: number; x1: number; y1: number }
  | { kind: 'pan'; x: number; y: number }
  | { kind: 'wl'; x: number; y: number };

export interface AnnotationStageProps {
  readonly controller: ViewerController;
  readonly viewer: ViewerState;
  readonly findings: readonly Finding[];
  readonly selectedId: string | undefined;
  readonly draft: ImageBox | undefined;
  readonly readOnly: boolean;
  readonly drawBlocked: string | undefined;
  readonly cursors: readonly RemoteCursor[];
  readonly authorName: (userId: string) => string;
  readonly colorOf: ColorOf;
  /** Where each box stands in the consensus (drawn differently). */
  readonly statusOf: (findingId: string) => BoxStatus;
  readonly onSelect: (id: string | undefined) => void;
  readonly onDraftDrawn: (box: ImageBox) => void;
  readonly onBoxChange: (id: string, box: ImageBox, final: boolean) => void;
  readonly onEditLabels: (id: string) => void;
  readonly onCursor: (p: ImagePoint | null) => void;
  readonly onNotice: (text: string) => void;
}

const MIN_DRAW_SCREEN_PX = 4;
const CHIP_FONT_PX = 12;
const CHIP_FONT = `${CHIP_FONT_PX}px system-ui, sans-serif`;
const CHIP_PAD = 4;
const CHIP_HEIGHT = CHIP_FONT_PX + 2 * CHIP_PAD;

let measureContext: CanvasRenderingContext2D | null | undefined;
/** Chip width for its text, measured with the font the chip is drawn in. */
function chipWidth(text: string): number {
  measureContext ??= document.createElement('canvas').getContext('2d');
  if (!measureContext) return text.length * 7 + 2 * CHIP_PAD;
  measureContext.font = CHIP_FONT;
  return Math.ceil(measureContext.measureText(text).width) + 2 * CHIP_PAD;
}
/** Live geometry is sent at most this often while dragging; the final value always goes. */
const LIVE_EDIT_INTERVAL_MS = 50;

/**
 * Boxes, handles, the box being drawn and the other members' cursors, all in screen space:
 * each box is converted from image pixels through the current viewport, and every edit is
 * converted back before it reaches the store, so zoom, pan and flips never leak into the data.
 */
export function AnnotationStage(props: AnnotationStageProps) {
  const { controller, viewer, findings, selectedId, readOnly } = props;
  const vp: Viewport = useMemo(
    () => ({ view: viewer.view, image: viewer.image, screen: viewer.screen }),
    [viewer.view, viewer.image, viewer.screen],
  );
  const [gesture, setGesture] = useState<Gesture | undefined>();
  const gestureRef = useRef<Gesture | undefined>(undefined);
  const transformerRef = useRef<Konva.Transformer>(null);
  const selectedRef = useRef<Konva.Rect | null>(null);
  const lastLive = useRef(0);
  const imageRect = boxToScreen(vp, { x_min: 0, y_min: 0, x_max: vp.image.width, y_max: vp.image.height });

  const setG = (g: Gesture | undefined) => {
    gestureRef.current = g;
    setGesture(g);
  };

  const editing = !readOnly && viewer.tool === 'select';
  useEffect(() => {
    const tr = transformerRef.current;
    if (!tr) return;
    tr.nodes(selectedRef.current && editing ? [selectedRef.current] : []);
    tr.getLayer()?.batchDraw();
  });

  // Finish a gesture even if the button is released outside the viewer.
  useEffect(() => {
    const up = () => {
      if (gestureRef.current) finish();
    };
    window.addEventListener('mouseup', up);
    return () => window.removeEventListener('mouseup', up);
  });

  const pointer = (e: Konva.KonvaEventObject<MouseEvent | WheelEvent>) => {
    const stage = e.target.getStage();
    const pos = stage?.getPointerPosition();
    return pos ? { x: pos.x, y: pos.y } : undefined;
  };

  const startGesture = (e: Konva.KonvaEventObject<MouseEvent>, tool: Tool) => {
    const p = pointer(e);
    if (!p) return;
    const button = e.evt.button;
    if (button === 1 || (button === 0 && (tool === 'pan' || tool === 'select'))) {
      if (button === 0 && tool === 'select') props.onSelect(undefined);
      setG({ kind: 'pan', x: p.x, y: p.y });
    } else if (button === 2 || (button === 0 && tool === 'wl')) {
      setG({ kind: 'wl', x: p.x, y: p.y });
    } else if (button === 0 && tool === 'draw') {
      props.onSelect(undefined);
      if (readOnly) {
        props.onNotice('The scan is locked: boxes cannot be drawn');
        return;
      }
      if (props.drawBlocked) {
        props.onNotice(props.drawBlocked);
        return;
      }
      setG({ kind: 'draw', x0: p.x, y0: p.y, x1: p.x, y1: p.y });
    }
  };

  const onMouseDown = (e: Konva.KonvaEventObject<MouseEvent>) => {
    // With the select tool boxes handle their own left clicks (select, move); everything else
    // is a viewer gesture, so the Box tool draws even when the drag starts inside a box.
    const onBox = e.target.name() === 'finding' || e.target.getParent()?.className === 'Transformer';
    if (onBox && e.evt.button === 0) return;
    e.evt.preventDefault();
    startGesture(e, viewer.tool);
  };

  const onMouseMove = (e: Konva.KonvaEventObject<MouseEvent>) => {
    const p = pointer(e);
    if (!p) return;
    const image = screenToImage(vp, screenPoint(p.x, p.y));
    const inside = image.x >= 0 && image.y >= 0 && image.x <= vp.image.width && image.y <= vp.image.height;
    props.onCursor(inside ? image : null);
    const g = gestureRef.current;
    if (!g) return;
    switch (g.kind) {
      case 'pan':
        controller.pan(p.x - g.x, p.y - g.y);
        gestureRef.current = { ...g, x: p.x, y: p.y };
        break;
      case 'wl':
        controller.dragWindow(p.x - g.x, p.y - g.y);
        gestureRef.current = { ...g, x: p.x, y: p.y };
        break;
      case 'draw':
        setG({ ...g, x1: p.x, y1: p.y });
        break;
      default: {
        const never: never = g;
        throw new Error(`unknown gesture ${JSON.stringify(never)}`);
      }
    }
  };

  const finish = () => {
    const g = gestureRef.current;
    setG(undefined);
    if (g?.kind !== 'draw') return;
    const w = Math.abs(g.x1 - g.x0);
    const h = Math.abs(g.y1 - g.y0);
    if (w < MIN_DRAW_SCREEN_PX || h < MIN_DRAW_SCREEN_PX) {
      // A click, not a drag: select the topmost box under it (nothing moves).
      const p = screenToImage(vp, screenPoint(g.x0, g.y0));
      const hit = [...findings]
        .reverse()
        .find((f) => p.x >= f.box.x_min && p.x <= f.box.x_max && p.y >= f.box.y_min && p.y <= f.box.y_max);
      if (hit) props.onSelect(hit.id);
      return;
    }
    const rect = screenRect(Math.min(g.x0, g.x1), Math.min(g.y0, g.y1), w, h);
    const box = clampBox(screenToBox(vp, rect), vp.image);
    if (box) props.onDraftDrawn(box);
  };

  const onWheel = (e: Konva.KonvaEventObject<WheelEvent>) => {
    e.evt.preventDefault();
    const p = pointer(e);
    if (!p) return;
    const factor = 1.0015 ** -e.evt.deltaY;
    controller.zoomBy(Math.min(4, Math.max(0.25, factor)), screenPoint(p.x, p.y));
  };

  const commitMove = (f: Finding, node: Konva.Node, final: boolean) => {
    const original = boxToScreen(vp, f.box);
    const now = performance.now();
    if (!final && now - lastLive.current < LIVE_EDIT_INTERVAL_MS) return;
    lastLive.current = now;
    const a = screenToImage(vp, screenPoint(original.x, original.y));
    const b = screenToImage(vp, screenPoint(node.x(), node.y()));
    // Flips make the screen's top-left another image corner; move by the delta of that corner.
    const moved = translateBoxInside(f.box, b.x - a.x, b.y - a.y, vp.image);
    props.onBoxChange(f.id, moved, final);
  };

  const commitResize = (f: Finding, node: Konva.Rect, final: boolean) => {
    const now = performance.now();
    if (!final && now - lastLive.current < LIVE_EDIT_INTERVAL_MS) return;
    lastLive.current = now;
    const rect = screenRect(node.x(), node.y(), node.width() * node.scaleX(), node.height() * node.scaleY());
    if (final) {
      node.scaleX(1);
      node.scaleY(1);
    }
    const box = clampBox(screenToBox(vp, rect), vp.image);
    if (box) props.onBoxChange(f.id, box, final);
  };

  const captionOf = (f: Finding) => {
    const mark = boxStyle(props.statusOf(f.id), false).mark;
    return `${f.labels.join(', ')} · ${props.authorName(f.createdBy)}${mark ? ` · ${mark}` : ''}`;
  };
  // The selected box's chip is placed first, so it keeps the spot nearest its box.
  const chipOrder = [...findings].sort((a, b) => Number(b.id === selectedId) - Number(a.id === selectedId));
  const chips = new Map<string, ChipPlacement & { text: string }>();
  const placements = placeChips(
    chipOrder.map((f) => {
      const text = captionOf(f);
      return { id: f.id, box: boxToScreen(vp, f.box), width: chipWidth(text), height: CHIP_HEIGHT };
    }),
    vp.screen,
  );
  for (const [i, p] of placements.entries())
    chips.set(p.id, { ...p, text: captionOf(chipOrder[i] as Finding) });
  const layout = findings.map((f) => {
    const r = boxToScreen(vp, f.box);
    const chip = chips.get(f.id);
    return {
      id: f.id,
      status: props.statusOf(f.id),
      color: props.colorOf(f.createdBy),
      box: { x: r.x, y: r.y, width: r.width, height: r.height },
      chip: chip && { x: chip.x, y: chip.y, width: chip.width, height: chip.height },
    };
  });
  const draw = gesture?.kind === 'draw' ? gesture : undefined;
  const draftRect = props.draft ? boxToScreen(vp, props.draft) : undefined;
  const cursorStyle =
    viewer.tool === 'draw' && !readOnly
      ? 'crosshair'
      : viewer.tool === 'pan' || gesture?.kind === 'pan'
        ? 'grab'
        : 'default';

  return (
    <>
      <Stage
        width={vp.screen.width}
        height={vp.screen.height}
        className="annotation-stage"
        style={{ cursor: cursorStyle }}
        onMouseDown={onMouseDown}
        onMouseMove={onMouseMove}
        onMouseUp={finish}
        onMouseLeave={() => props.onCursor(null)}
        onWheel={onWheel}
        onContextMenu={(e) => e.evt.preventDefault()}
      >
        <Layer>
          {findings.map((f) => {
            const r = boxToScreen(vp, f.box);
            const color = props.colorOf(f.createdBy);
            const selected = f.id === selectedId;
            const style = boxStyle(props.statusOf(f.id), selected);
            return (
              <Group key={f.id} opacity={style.opacity}>
                {style.halo && (
                  <Rect
                    x={r.x - 3}
                    y={r.y - 3}
                    width={r.width + 6}
                    height={r.height + 6}
                    stroke="#ffffff"
                    strokeWidth={2}
                    shadowColor="#ffffff"
                    shadowBlur={8}
                    shadowOpacity={0.9}
                    listening={false}
                  />
                )}
                <Rect
                  ref={selected ? selectedRef : undefined}
                  name="finding"
                  id={f.id}
                  x={r.x}
                  y={r.y}
                  width={r.width}
                  height={r.height}
                  stroke={color}
                  strokeWidth={style.strokeWidth}
                  dash={style.dash}
                  fill={selected ? 'rgba(255,255,255,0.06)' : 'rgba(0,0,0,0.001)'}
                  strokeScaleEnabled={false}
                  listening={viewer.tool === 'select'}
                  draggable={editing}
                  dragBoundFunc={(pos) => ({
                    x: Math.min(Math.max(pos.x, imageRect.x), imageRect.x + imageRect.width - r.width),
                    y: Math.min(Math.max(pos.y, imageRect.y), imageRect.y + imageRect.height - r.height),
                  })}
                  onMouseDown={(e) => {
                    if (e.evt.button !== 0) return;
                    e.cancelBubble = true;
                    if (!selected) props.onSelect(f.id);
                  }}
                  onDblClick={() => !readOnly && props.onEditLabels(f.id)}
                  onDragMove={(e) => commitMove(f, e.target, false)}
                  onDragEnd={(e) => commitMove(f, e.target, true)}
                  onTransform={(e) => commitResize(f, e.target as Konva.Rect, false)}
                  onTransformEnd={(e) => commitResize(f, e.target as Konva.Rect, true)}
                />
              </Group>
            );
          })}
          {findings.map((f) => {
            const chip = chips.get(f.id);
            if (!chip) return null;
            const style = boxStyle(props.statusOf(f.id), f.id === selectedId);
            const color = props.colorOf(f.createdBy);
            // A dark backing with the author's colour as text and border: legible over the spine
            // and over bright lung fields alike.
            return (
              <Label key={`chip-${f.id}`} x={chip.x} y={chip.y} opacity={style.opacity} listening={false}>
                <Tag fill="rgba(12,14,18,0.88)" stroke={color} strokeWidth={1} cornerRadius={3} />
                <Text
                  text={chip.text}
                  fontSize={CHIP_FONT_PX}
                  fontFamily="system-ui, sans-serif"
                  padding={CHIP_PAD}
                  fill={color}
                  textDecoration={style.strike ? 'line-through' : ''}
                />
              </Label>
            );
          })}
          {draftRect && (
            <Rect
              x={draftRect.x}
              y={draftRect.y}
              width={draftRect.width}
              height={draftRect.height}
              stroke="#ffffff"
              strokeWidth={1.5}
              dash={[4, 4]}
              listening={false}
            />
          )}
          {draw && (
            <Rect
              x={Math.min(draw.x0, draw.x1)}
              y={Math.min(draw.y0, draw.y1)}
              width={Math.abs(draw.x1 - draw.x0)}
              height={Math.abs(draw.y1 - draw.y0)}
              stroke="#ffffff"
              strokeWidth={1.5}
              dash={[4, 4]}
              listening={false}
            />
          )}
          <Transformer
            ref={transformerRef}
            rotateEnabled={false}
            keepRatio={false}
            ignoreStroke
            flipEnabled={false}
            anchorSize={8}
            anchorStroke="#e6e6e6"
            anchorFill="#1b1f24"
            borderStroke="#e6e6e6"
            borderDash={[3, 3]}
            boundBoxFunc={(oldBox, newBox) => (newBox.width < 4 || newBox.height < 4 ? oldBox : newBox)}
          />
        </Layer>
        <Layer listening={false}>
          {props.cursors.map((c) => {
            const p = boxToScreen(vp, { x_min: c.x, y_min: c.y, x_max: c.x, y_max: c.y });
            return (
              <Group key={c.clientId} x={p.x} y={p.y}>
                <Circle radius={4} fill={props.colorOf(c.userId)} stroke="black" strokeWidth={1} />
                <Text
                  x={7}
                  y={-6}
                  text={c.name}
                  fontSize={11}
                  fill={props.colorOf(c.userId)}
                  shadowColor="black"
                  shadowBlur={2}
                />
              </Group>
            );
          })}
        </Layer>
      </Stage>
      {/* What was drawn, for the e2e specs (boxes, their status and chips; docs/UI.md). */}
      <div hidden data-testid="box-layout" data-layout={JSON.stringify(layout)} />
    </>
  );
}
