import { describe, expect, it } from 'vitest';
import { classLimits, galleryOf } from '../../bench/lib/classroom.js';

// The `class` benchmark's galleries: every page orders students the same way, so a class of 50
// with galleries of 9 watches the teacher and 9 students, and dynacast silences the other 40.
describe('the class benchmark gallery', () => {
  it('shows a student the teacher on the stage and the first K - 1 other students', () => {
    expect(galleryOf(0, 49, 9)).toEqual({ stage: true, students: [1, 2, 3, 4, 5, 6, 7, 8] });
    expect(galleryOf(4, 49, 9)).toEqual({ stage: true, students: [0, 1, 2, 3, 5, 6, 7, 8] });
    expect(galleryOf(30, 49, 9)).toEqual({ stage: true, students: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(galleryOf('teacher', 49, 9)).toEqual({ stage: false, students: [0, 1, 2, 3, 4, 5, 6, 7, 8] });
  });

  it('watches only the first K students of a class of 50 (the first by everyone, the K-th by K - 1 students and the teacher)', () => {
    const watchers = new Map<number, number>();
    for (const m of ['teacher' as const, ...Array.from({ length: 49 }, (_, i) => i)]) {
      for (const s of galleryOf(m, 49, 9).students) watchers.set(s, (watchers.get(s) ?? 0) + 1);
    }
    expect([...watchers.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(watchers.get(0)).toBe(49);
    expect(watchers.get(8)).toBe(9);
  });

  it('fits a small class and sets the limits that let S students and K tiles through', () => {
    expect(galleryOf(1, 3, 9)).toEqual({ stage: true, students: [0, 2] });
    expect(classLimits('shown', 49, 9)).toEqual({ maxVideosPerStudent: 12, maxStudentCameras: 50 });
    expect(classLimits('shown', 60, 20)).toEqual({ maxVideosPerStudent: 20, maxStudentCameras: 60 });
    expect(classLimits('all', 49, 9)).toEqual({ maxVideosPerStudent: 100, maxStudentCameras: 1000 });
  });
});
