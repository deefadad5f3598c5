import type { Finding } from '@cxr/shared';
import type Konva from 'konva';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Circle, Group, Layer, Rect, Stage, Text, Transformer } from 'react-konva';
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
import { colorFor } from './colors.js';

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
  readonly onSelect: (id: string | undefined) => void;
  readonly onDraftDrawn: (box: ImageBox) => void;
  readonly onBoxChange: (id: string, box: ImageBox, final: boolean) => void;
  readonly onEditLabels: (id: string) => void;
  readonly onCursor: (p: ImagePoint | null) => void;
  readonly onNotice: (text: string) => void;
}

const MIN_DRAW_SCREEN_PX = 4;
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

  useEffect(() => {
    const tr = transformerRef.current;
    if (!tr) return;
    tr.nodes(selectedRef.current && !readOnly ? [selectedRef.current] : []);
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
    // Boxes handle their own left clicks (select, move); everything else is a viewer gesture.
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
    if (w < MIN_DRAW_SCREEN_PX || h < MIN_DRAW_SCREEN_PX) return;
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

  const draw = gesture?.kind === 'draw' ? gesture : undefined;
  const draftRect = props.draft ? boxToScreen(vp, props.draft) : undefined;
  const cursorStyle =
    viewer.tool === 'draw' && !readOnly
      ? 'crosshair'
      : viewer.tool === 'pan' || gesture?.kind === 'pan'
        ? 'grab'
        : 'default';

  return (
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
          const color = colorFor(f.createdBy);
          const selected = f.id === selectedId;
          const caption = `${f.labels.join(', ')} · ${props.authorName(f.createdBy)}`;
          return (
            <Group key={f.id}>
              <Rect
                ref={selected ? selectedRef : undefined}
                name="finding"
                id={f.id}
                x={r.x}
                y={r.y}
                width={r.width}
                height={r.height}
                stroke={color}
                strokeWidth={selected ? 2.5 : 1.6}
                dash={selected ? undefined : [6, 3]}
                fill={selected ? 'rgba(255,255,255,0.06)' : 'rgba(0,0,0,0.001)'}
                strokeScaleEnabled={false}
                draggable={!readOnly}
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
              <Text
                x={r.x}
                y={Math.max(0, r.y - 16)}
                text={caption}
                fontSize={12}
                fontFamily="system-ui, sans-serif"
                fill={color}
                listening={false}
                shadowColor="black"
                shadowBlur={3}
                shadowOpacity={0.9}
              />
            </Group>
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
              <Circle radius={4} fill={c.color} stroke="black" strokeWidth={1} />
              <Text
                x={7}
                y={-6}
                text={c.name}
                fontSize={11}
                fill={c.color}
                shadowColor="black"
                shadowBlur={2}
              />
            </Group>
          );
        })}
      </Layer>
    </Stage>
  );
}
